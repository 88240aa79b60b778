"""A queue delivery of an execution taken by a worker (`flowrun worker`, issue 15).

Delivery is at-least-once: the submitter records the execution `queued`, a worker claims it
when the task arrives. Claiming an execution that is still active but not queued, or queued
but claimed already (`claimed_at`: a worker took it and had not started its engine yet),
means the worker that had it died (its task came back after the broker's visibility
timeout) or that the task was sent twice: that
attempt is kept in `execution_attempts` as `interrupted`, its node and stage rows are cleared,
and this delivery runs attempt n + 1, unless the workflow opted out (`trigger.redeliver:
false`), which ends the execution `interrupted` instead. An execution already ended (a
duplicate delivery) is not run again.

The earlier attempt's worker may be alive after all (Redis was away for longer than the
visibility timeout, so its lease lapsed and the task was delivered again): it then ends its
attempt's row with how its run really ended (`end_attempt`) and leaves the execution's, now
the later attempt's, alone.
"""

from __future__ import annotations

import time
from typing import Literal

from flowrun.history import rows
from flowrun.history.sql import Connection
from flowrun.status import ACTIVE_VALUES, ExecutionStatus

Claim = Literal["run", "ended", "missing"]
_ATTEMPT = """INSERT INTO execution_attempts
    (execution_id, attempt, worker, status, started_at, finished_at, error)
    VALUES (?, ?, ?, 'interrupted', ?, ?, ?)"""


async def claim(
    conn: Connection, execution_id: str, *, worker: str, pid: int, redeliver: bool
) -> Claim:
    found = await (
        await conn.execute(
            "SELECT status, attempt, worker, owner_pid, started_at, updated_at, claimed_at "
            "FROM executions "
            "WHERE id = ?",
            (execution_id,),
        )
    ).fetchone()
    if found is None:
        return "missing"
    status, attempt, old_worker, old_pid, started_at, updated_at, claimed_at = found
    now = time.time()
    if status not in ACTIVE_VALUES:
        return "ended"
    # this very claim again: a write retried after the answer to its commit was lost
    ours = (old_worker, old_pid) == (worker, pid)
    if status != ExecutionStatus.QUEUED or (claimed_at is not None and not ours):
        error = rows.interrupted_error(f"{old_pid} on {old_worker}", updated_at, now)
        await conn.execute(_ATTEMPT, (execution_id, attempt, old_worker, started_at, now, error))
        if not redeliver:
            await rows.finish_row(conn, execution_id, "interrupted", None, error, now)
            return "ended"
        for table in ("node_executions", "stage_executions"):
            await conn.execute(f"DELETE FROM {table} WHERE execution_id = ?", (execution_id,))
        await conn.execute(
            "UPDATE executions SET status = 'queued', attempt = attempt + 1, started_at = NULL, "
            "plan = NULL, pgid = NULL WHERE id = ?",
            (execution_id,),
        )
    await conn.execute(
        "UPDATE executions SET worker = ?, owner_pid = ?, updated_at = ?, claimed_at = ? "
        "WHERE id = ?",
        (worker, pid, now, now, execution_id),
    )
    return "run"


async def end_attempt(
    conn: Connection, execution_id: str, attempt: int, status: str, error: str | None
) -> None:
    """An attempt taken over by a later delivery ended after all: how, and when."""
    await conn.execute(
        "UPDATE execution_attempts SET status = ?, finished_at = ?, error = ? "
        "WHERE execution_id = ? AND attempt = ?",
        (status, time.time(), error, execution_id, attempt),
    )
