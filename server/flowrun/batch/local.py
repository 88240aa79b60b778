"""A batch on this machine: a pool of engine children (the `RunService`, mode `batch`).

At most `max_concurrent` executions run at once, and no more than that are handed to the
service ahead (a 10,000-row batch does not record 10,000 queued executions up front). Each
takes a warm engine child forked by a fork server (`runs.warm`, as a queue worker's are),
not a cold interpreter; still one fresh process per execution.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowrun.batch.results import RowResult, from_history, refused
from flowrun.history.interface import HistoryBackend
from flowrun.runs.errors import InvalidInput
from flowrun.runs.service import RunService
from flowrun.runs.warm import WarmChildren

Progress = Callable[[int, RowResult | None], None]  # (row index, its result; None: started)


async def run_local(
    store: HistoryBackend,
    path: Path,
    rows: list[dict[str, Any]],
    *,
    max_concurrent: int,
    python: str | None,
    timeout: float | None,
    on_progress: Progress,
) -> list[RowResult]:
    warm = WarmChildren(max_concurrent)
    service = RunService(
        store, python=python, max_concurrent=max_concurrent, mode="batch", warm=warm
    )
    results: list[RowResult | None] = [None] * len(rows)
    gate = asyncio.Semaphore(max_concurrent)

    async def one(index: int) -> None:
        async with gate:
            on_progress(index, None)
            results[index] = await _run_row(service, store, path, rows[index], timeout)
            on_progress(index, results[index])

    try:
        await asyncio.gather(*(one(index) for index in range(len(rows))))
    finally:
        try:
            await service.shutdown()  # Ctrl-C: every running execution stopped and recorded
        finally:
            await asyncio.to_thread(warm.close)  # the children ready ahead, the fork server
    return [result for result in results if result is not None]


async def _run_row(
    service: RunService,
    store: HistoryBackend,
    path: Path,
    inputs: dict[str, Any],
    timeout: float | None,
) -> RowResult:
    try:
        execution_id = await service.execute(path, inputs=inputs, timeout=timeout)
    except InvalidInput as exc:  # this row's values; anything else stops the batch
        return refused(exc.error)
    return await from_history(store, execution_id, await service.wait(execution_id))
