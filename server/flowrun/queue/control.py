"""Stopping queue executions anywhere: a queued one is marked `stopped` in the history and its
task revoked (a worker that still receives it finds it ended and does not run it); a running
one is stopped by the worker that holds it (Celery remote control, `flowrun_stop`), which
sends SIGTERM to the engine's process group on its machine."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

from flowrun.history.store import HistoryStore

STOP_COMMAND = "flowrun_stop"


def register_stop_command() -> None:
    """In the worker: the remote-control command `flowrun_stop` (Celery's global panel)."""
    from celery.worker.control import control_command

    @control_command(  # type: ignore[untyped-decorator]
        args=[("execution_id", str), ("pgid", int)], signature="<execution_id> <pgid>"
    )
    def flowrun_stop(_state: Any, execution_id: str, pgid: int) -> dict[str, Any]:
        return {"ok": stop_group(execution_id, int(pgid))}


def stop_group(execution_id: str, pgid: int) -> bool:
    """SIGTERM to the process group of the engine of `execution_id` on this machine: the
    engine stops its nodes and records the end. Refused when `pgid` is not that engine."""
    try:
        environ = Path(f"/proc/{pgid}/environ").read_bytes()
    except OSError:
        return False
    if f"FLOWRUN_EXECUTION_ID={execution_id}".encode() not in environ.split(b"\0"):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    return True


async def stop_anywhere(app: Any, store: HistoryStore, execution_id: str) -> tuple[bool, str]:
    """Stop the execution wherever it is: whether it is stopping, and what happened."""
    status = await store.status_of(execution_id)
    if status == "queued":
        error = {"type": "Stopped", "message": "stopped while queued"}
        await store.finish(execution_id, status="stopped", outputs=None, error=error)
        await asyncio.to_thread(app.control.revoke, execution_id)
        return True, f"Execution {execution_id} was queued: revoked, recorded stopped."
    if status != "running":
        return False, f"Execution {execution_id} is not running ({status})."
    _owner, pgid = await store.process_of(execution_id)
    worker = await store.worker_of(execution_id) or ""
    if pgid is None:
        return False, f"Execution {execution_id} has no engine process yet; try again."
    replies = await asyncio.to_thread(
        app.control.broadcast, STOP_COMMAND, arguments={"execution_id": execution_id,
        "pgid": pgid}, destination=[worker] if worker else None, reply=True, timeout=5.0,
    )  # fmt: skip
    if any(reply.get("ok") for answer in replies or [] for reply in answer.values()):
        return True, f"Stopping execution {execution_id} on {worker or 'its worker'}."
    return False, f"No worker answered for execution {execution_id} ({worker or 'unknown'})."
