"""Stopping queue executions anywhere: a queued one is recorded ended in the history and its
task revoked (a worker that still receives it finds it ended and does not run it); a running
one is stopped by the worker that holds it (Celery remote control, `flowrun_stop`).

On the worker, the pool process that runs the execution stops it exactly as the local
supervisor does (`EngineChild.stop(reason)`: the process group, then every descendant): the
worker's main process sends it a real-time signal that names the reason (`STOP_SIGNALS`), so
a `serve --queue` timeout is recorded `timed_out`, a `flowrun stop` `stopped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flowrun.history.store import HistoryStore

STOP_COMMAND = "flowrun_stop"
STOP_SIGNALS = {"stopped": signal.SIGRTMIN + 1, "timed_out": signal.SIGRTMIN + 2}
_REASONS = {int(number): reason for reason, number in STOP_SIGNALS.items()}
QUEUED_STOP = {"type": "Stopped", "message": "stopped while queued"}
_on_stop: Callable[[str], None] | None = None  # the pool process's running execution
_stop_asked: list[str] = []  # a stop that came when no execution ran (the worker ends)


def register_stop_command() -> None:
    """In the worker: the remote-control command `flowrun_stop` (Celery's global panel)."""
    from celery.worker.control import control_command

    @control_command(  # type: ignore[untyped-decorator]
        args=[("execution_id", str), ("pid", int), ("pgid", int), ("reason", str)],
        signature="<execution_id> <pid> <pgid> <reason>",
    )
    def flowrun_stop(
        _state: Any, execution_id: str, pid: int, pgid: int, reason: str = "stopped"
    ) -> dict[str, Any]:
        return {"ok": signal_holder(execution_id, int(pid), int(pgid), reason)}


def signal_holder(execution_id: str, pid: int, pgid: int, reason: str) -> bool:
    """Ask pool process `pid` (a child of this worker) to stop its execution; refused when
    `pgid`, the engine the history names for `execution_id`, is no longer that process's
    (the execution ended: a pool process runs one at a time, each in a new engine)."""
    if _parent_of(pid) != os.getpid() or not _descends_from(pgid, pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, STOP_SIGNALS.get(reason, STOP_SIGNALS["stopped"]))
    return True


def stop_pool(pids: list[int], reason: str = "stopped") -> None:
    """Ask every pool process to stop what it runs (the worker's `--grace` is over)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, STOP_SIGNALS[reason])


def install_stop_handler() -> None:
    """In each pool process, at its start: the stop signals (`stoppable`, `stop_asked`)."""
    for number in STOP_SIGNALS.values():
        signal.signal(number, _on_signal)


@contextlib.contextmanager
def stoppable(on_stop: Callable[[str], None]) -> Iterator[None]:
    """While an execution runs in this pool process, a stop signal calls `on_stop(reason)`."""
    global _on_stop
    _on_stop = on_stop
    if _stop_asked:  # it came while the execution was being prepared
        on_stop(_stop_asked[-1])
    try:
        yield
    finally:
        _on_stop = None


def _on_signal(number: int, _frame: Any) -> None:
    reason = _REASONS.get(number, "stopped")
    if _on_stop is not None:
        _on_stop(reason)
    else:
        _stop_asked.append(reason)


def new_delivery() -> None:
    """A delivery begins in this pool process: a stop meant for an earlier one is forgotten."""
    _stop_asked.clear()


def stop_asked() -> bool:
    """Whether this pool process was asked to stop while no execution ran in it (its worker's
    grace is over while it waited for the history): the delivery is given back."""
    return bool(_stop_asked)


def _descends_from(pid: int, ancestor: int) -> bool:
    """Whether `ancestor` started `pid`, directly or through a fork server (`warm`)."""
    for _generation in range(3):
        parent = _parent_of(pid)
        if parent is None or parent <= 1:
            return False
        if parent == ancestor:
            return True
        pid = parent
    return False


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


async def stop_all(app: Any, store: HistoryStore, execution_ids: list[str]) -> None:
    """Stop many executions (a batch's): the queued ones recorded `stopped` and revoked in one
    message, each running one on its worker."""
    statuses = await store.statuses(execution_ids)
    queued = [eid for eid, status in statuses.items() if status == "queued"]
    ended = await store.finish_unstarted(queued, status="stopped", error=QUEUED_STOP)
    if ended:
        await asyncio.to_thread(app.control.revoke, ended)
    taken = set(queued) - set(ended)  # a worker claimed them since: they run there now
    running = [eid for eid, status in statuses.items() if status == "running" or eid in taken]
    await asyncio.gather(
        *(stop_anywhere(app, store, eid) for eid in running), return_exceptions=True
    )


async def stop_anywhere(
    app: Any, store: HistoryStore, execution_id: str, reason: str = "stopped",
    error: dict[str, Any] | None = None,
) -> tuple[bool, str]:  # fmt: skip
    """Stop the execution wherever it is (`reason`: stopped or timed_out; `error`: what is
    recorded for a queued one): whether it is stopping, and what happened."""
    status = await store.status_of(execution_id)
    if status == "queued":
        error = error or QUEUED_STOP
        if await store.finish_unstarted([execution_id], status=reason, error=error):
            await asyncio.to_thread(app.control.revoke, execution_id)
            return True, f"Execution {execution_id} was queued: revoked, recorded {reason}."
        status = await store.status_of(execution_id)  # a worker took it meanwhile
    if status != "running":
        return False, f"Execution {execution_id} is not running ({status})."
    owner, pgid = await store.process_of(execution_id)
    worker = await store.worker_of(execution_id) or ""
    if pgid is None or owner is None:
        return False, f"Execution {execution_id} has no engine process yet; try again."
    arguments = {"execution_id": execution_id, "pid": owner, "pgid": pgid, "reason": reason}
    for _attempt in range(3):  # a loaded worker may answer late: asking again is harmless
        replies = await asyncio.to_thread(
            app.control.broadcast, STOP_COMMAND, arguments=arguments,
            destination=[worker] if worker else None, reply=True, timeout=5.0,
        )  # fmt: skip
        if any(reply.get("ok") for answer in replies or [] for reply in answer.values()):
            return True, f"Stopping execution {execution_id} on {worker or 'its worker'}."
        if replies:  # it answered: not (or no longer) its execution
            return False, f"Execution {execution_id} is no longer running on {worker}."
    return False, f"No worker answered for execution {execution_id} ({worker or 'unknown'})."
