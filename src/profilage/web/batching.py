"""Adaptive request batching for ``POST /api/score``.

Scoring one dossier costs a mostly fixed ~10 ms of Polars work, whatever the number of rows, so
the server scores the requests that arrive together in one vectorised pass
(:func:`profilage.scoring.score_dossiers_json`). There is no timer: one consumer takes every
request waiting, scores them in a worker thread, answers them, and starts again. Under light load
a batch is one request (no added latency); under heavy load batches grow and throughput follows.
Results are identical to scoring one by one (tested).

A batch that fails is scored again one dossier at a time, so each request gets its own answer:
a bad dossier its error (422), the others their scores. One client's input never fails another
client's request.
"""

from __future__ import annotations

import asyncio
from typing import Any

MAX_BATCH = 256


class ScoreBatcher:
    """Collects (dossier, model) pairs and scores them in batches, one model per pass.

    A drain task runs only while requests are waiting, so nothing is left pending when the
    event loop stops."""

    def __init__(self, max_batch: int = MAX_BATCH):
        self.max_batch = max_batch
        self._pending: list[tuple[Any, Any, asyncio.Future]] = []
        self._draining = False
        self._loop: asyncio.AbstractEventLoop | None = None

    async def score(self, dossier: Any, model: Any) -> dict:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests create several): fresh state
            self._loop, self._pending, self._draining = loop, [], False
        fut = loop.create_future()
        self._pending.append((dossier, model, fut))
        if not self._draining:
            self._draining = True
            loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        from profilage.scoring import score_dossiers_json

        try:
            while self._pending:
                items = self._pending[:self.max_batch]
                del self._pending[:self.max_batch]
                by_model: dict[int, list] = {}
                for it in items:
                    by_model.setdefault(id(it[1]), []).append(it)
                for group in by_model.values():
                    try:
                        results = await asyncio.to_thread(
                            score_dossiers_json, [g[0] for g in group], group[0][1])
                    except Exception as e:  # noqa: BLE001 - per item below
                        if len(group) == 1:
                            _settle(group[0][2], exc=e)
                        else:
                            await asyncio.to_thread(_one_by_one, group)
                        continue
                    for (_, _, fut), res in zip(group, results):
                        _settle(fut, res)
        finally:
            self._draining = False


def _settle(fut: asyncio.Future, result: Any = None, exc: BaseException | None = None) -> None:
    """Resolve a request's future (from the event loop's thread)."""
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


def _one_by_one(group: list) -> None:
    """Score each dossier of a failed batch alone (in the worker thread); each future gets its
    own result or its own exception."""
    from profilage.scoring import score_dossiers_json

    for dossier, model, fut in group:
        try:
            res, exc = score_dossiers_json([dossier], model)[0], None
        except Exception as e:  # noqa: BLE001 - this request's own error
            res, exc = None, e
        fut.get_loop().call_soon_threadsafe(_settle, fut, res, exc)


batcher = ScoreBatcher()
