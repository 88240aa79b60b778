"""A batch through the queue (`flowrun batch --queue URL --db URL`): the rows recorded
`queued` in the shared history and sent as Celery tasks in bulk, `CHUNK` at a time (one
transaction, one pipelined send: `queue.submit`); the batch then follows the history (no
result backend) until every execution ended. Ctrl-C stops them all, wherever they are."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from flowrun.batch.local import Progress
from flowrun.batch.results import RowResult, from_history, refused
from flowrun.history.interface import NewExecution
from flowrun.history.location import HistoryUnreachable
from flowrun.history.store import HistoryStore
from flowrun.queue.control import stop_all
from flowrun.queue.message import Delivery
from flowrun.queue.submit import send_all
from flowrun.runs.errors import InvalidInput
from flowrun.runs.launch import new_execution_id
from flowrun.spec.resolve import InputError, resolve_inputs, workflow_id
from flowrun.status import ACTIVE_VALUES

POLL = 0.25  # seconds between two looks at the history
CHUNK = 500  # rows recorded in one transaction, then sent together
log = logging.getLogger(__name__)


async def run_queued(
    app: Any,
    store: HistoryStore,
    path: Path,
    workflow: Any,
    rows: list[dict[str, Any]],
    *,
    timeout: float | None,
    on_progress: Progress,
) -> list[RowResult]:
    results: list[RowResult | None] = [None] * len(rows)
    ids: dict[str, int] = {}
    cancel = threading.Event()  # Ctrl-C while the broker is away: the sender gives up
    try:
        pending = _deliveries(path, workflow, rows, timeout, results, on_progress)
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start : start + CHUNK]
            # known before the insert: Ctrl-C during it may still commit the rows, then stopped
            ids.update((delivery["execution_id"], index) for index, delivery in chunk)
            await store.create_executions([_queued(workflow, path, d) for _, d in chunk])
            await asyncio.to_thread(send_all, app, [d for _, d in chunk], cancel)
        await _follow(store, ids, results, on_progress)
    except asyncio.CancelledError:
        cancel.set()
        await _stop_all(app, store, ids, results)
        raise
    return [result for result in results if result is not None]


def _deliveries(
    path: Path,
    workflow: Any,
    rows: list[dict[str, Any]],
    timeout: float | None,
    results: list[RowResult | None],
    on_progress: Progress,
) -> list[tuple[int, Delivery]]:
    """The delivery of each row whose values the workflow takes (a refused row ends now)."""
    text = path.read_text(encoding="utf-8")
    pending: list[tuple[int, Delivery]] = []
    for index, row in enumerate(rows):
        try:
            inputs = resolve_inputs(workflow.inputs, row)
        except InputError as exc:
            results[index] = refused(InvalidInput(f"row {index}: {exc}").error)
            on_progress(index, None)
            on_progress(index, results[index])
            continue
        delivery: Delivery = {
            "execution_id": new_execution_id(), "file": str(path), "text": text,
            "inputs": inputs, "trigger": None, "mode": "batch", "timeout": timeout,
        }  # fmt: skip
        pending.append((index, delivery))
    return pending


def _queued(workflow: Any, path: Path, delivery: Delivery) -> NewExecution:
    return {
        "execution_id": delivery["execution_id"], "workflow_id": workflow_id(workflow, path),
        "file": str(path), "trigger": None, "inputs": delivery["inputs"], "status": "queued",
        "mode": "batch",
    }  # fmt: skip


async def _follow(
    store: HistoryStore,
    ids: dict[str, int],
    results: list[RowResult | None],
    on_progress: Progress,
) -> None:
    waiting = set(ids)
    running: set[str] = set()
    while waiting:
        try:
            statuses = await store.statuses(sorted(waiting))
        except HistoryUnreachable as exc:  # the workers wait for it too: so does the batch
            log.warning("%s; looking again", exc.message)
            await asyncio.sleep(1.0)
            continue
        for execution_id, status in statuses.items():
            index = ids[execution_id]
            if status == "running" and execution_id not in running:
                running.add(execution_id)
                on_progress(index, None)
            elif status not in ACTIVE_VALUES:
                if execution_id not in running:
                    on_progress(index, None)
                running.discard(execution_id)
                waiting.discard(execution_id)
                results[index] = await from_history(store, execution_id, status)
                on_progress(index, results[index])
        if waiting:
            await asyncio.sleep(POLL)


async def _stop_all(
    app: Any, store: HistoryStore, ids: dict[str, int], results: list[RowResult | None]
) -> None:
    left = [eid for eid, index in ids.items() if results[index] is None]
    try:
        await stop_all(app, store, left)
    except Exception as exc:  # the history or the broker away: stop what can be stopped
        log.warning("the batch could not stop every execution: %s", exc)
