"""Adaptive request batching for ``POST /api/score``.

Scoring one dossier costs a mostly fixed ~10 ms of Polars work, whatever the number of rows, so
the server scores the requests that arrive together in one vectorised pass
(:func:`profilage.scoring.score_dossiers_json`). There is no timer: one consumer takes every
request waiting, scores them in a worker thread, answers them, and starts again. Under light load
a batch is one request (no added latency); under heavy load batches grow and throughput follows.
Results are identical to scoring one by one (tested).
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
                    except Exception as e:  # noqa: BLE001 - handed to each waiting request
                        for _, _, fut in group:
                            if not fut.done():
                                fut.set_exception(e)
                        continue
                    for (_, _, fut), res in zip(group, results):
                        if not fut.done():
                            fut.set_result(res)
        finally:
            self._draining = False


batcher = ScoreBatcher()
