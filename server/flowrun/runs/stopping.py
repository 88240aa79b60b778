"""Stop an execution that another flowrun process may own (`flowrun stop`), via the history.

The store knows the owner (the flowrun process that runs it) and the engine's process group.
Every process of the execution is ended (`containment.end_execution`: its group, its
cgroup, every process carrying its `FLOWRUN_EXECUTION_ID`; SIGTERM, SIGKILL after the grace
period); the owner notices its engine end and records `stopped`. When the owner is gone,
this records the end itself. The group is only counted when its owner is alive or its
leader is provably this execution's engine, so a recycled process group id of an unrelated
program is never hit.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

from flowrun.history.interface import HistoryBackend
from flowrun.runs import cgroup
from flowrun.runs.containment import Scope, end_execution
from flowrun.runs.process_groups import pid_alive
from flowrun.status import ExecutionStatus, is_active

POLL = 0.05


@dataclass(frozen=True)
class StopOutcome:
    ok: bool
    message: str
    status: str | None


async def stop_execution(
    store: HistoryBackend, execution_id: str, *, grace: float = 3.0, owner_wait: float = 5.0
) -> StopOutcome:
    short = execution_id[:8]
    status = await store.status_of(execution_id)
    if not is_active(status):
        return StopOutcome(False, f"Execution {short} is not running (it is {status}).", status)
    if status == ExecutionStatus.PAUSED:  # a checkpoint in the history: no process to stop
        message = f"Execution {short} is paused: nothing of it runs (`flowrun resume {short}`)."
        return StopOutcome(False, message, status)
    owner, pgid = await store.process_of(execution_id)
    owner_alive = pid_alive(owner) and owner != os.getpid()
    trusted = pgid is not None and (owner_alive or group_runs_execution(pgid, execution_id))
    await end_processes(execution_id, pgid if trusted else None, grace)
    if owner_alive:
        if pgid is None:
            return StopOutcome(
                False,
                f"Execution {short} is queued in flowrun process {owner} and has no process "
                "yet; stop it there (■ Stop in the editor) or try again once it runs.",
                status,
            )
        final = await _wait_recorded(store, execution_id, owner_wait)
        if final is None:
            return StopOutcome(
                True, f"Stop sent to execution {short}; process {owner} will record it.", status
            )
        return StopOutcome(True, f"Stopped execution {short} ({final}).", final)
    error = {
        "type": "Stopped",
        "message": f"Stopped by `flowrun stop`; the flowrun process that ran it (pid {owner}) "
        "was no longer running.",
    }
    await store.finish(execution_id, status="stopped", outputs=None, error=error)
    return StopOutcome(True, f"Stopped execution {short} (its owner process was gone).", "stopped")


async def end_processes(execution_id: str, pgid: int | None, grace: float) -> list[int]:
    """Every process of an execution this process does not own; returns those signalled."""
    scope = Scope(execution_id, pgid, pgid, cgroup.find(execution_id))
    return await asyncio.to_thread(end_execution, scope, grace=grace)


def group_runs_execution(pgid: int, execution_id: str, proc: Path = Path("/proc")) -> bool:
    """True when the group leader's environment names this execution (Linux /proc)."""
    try:
        environ = (proc / str(pgid) / "environ").read_bytes()
    except OSError:
        return False
    return f"FLOWRUN_EXECUTION_ID={execution_id}".encode() in environ.split(b"\0")


async def _wait_recorded(store: HistoryBackend, execution_id: str, seconds: float) -> str | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = await store.status_of(execution_id)
        if not is_active(status):
            return status
        await asyncio.sleep(POLL)
    return None
