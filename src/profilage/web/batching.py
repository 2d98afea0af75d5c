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
    """Collects (dossier, model) pairs and scores them in batches, one model per pass."""

    def __init__(self, max_batch: int = MAX_BATCH):
        self.max_batch = max_batch
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure(self) -> asyncio.Queue:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop or self._task is None or self._task.done():
            self._loop = loop
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._run(self._queue))
        return self._queue

    async def score(self, dossier: Any, model: Any) -> dict:
        fut = asyncio.get_running_loop().create_future()
        self._ensure().put_nowait((dossier, model, fut))
        return await fut

    async def _run(self, queue: asyncio.Queue) -> None:
        from profilage.scoring import score_dossiers_json

        while True:
            items = [await queue.get()]
            while len(items) < self.max_batch and not queue.empty():
                items.append(queue.get_nowait())
            by_model: dict[int, list] = {}
            for it in items:
                by_model.setdefault(id(it[1]), []).append(it)
            for group in by_model.values():
                model = group[0][1]
                try:
                    results = await asyncio.to_thread(
                        score_dossiers_json, [g[0] for g in group], model)
                except Exception as e:  # noqa: BLE001 - handed to each waiting request
                    for _, _, fut in group:
                        if not fut.done():
                            fut.set_exception(e)
                    continue
                for (_, _, fut), res in zip(group, results):
                    if not fut.done():
                        fut.set_result(res)


batcher = ScoreBatcher()
