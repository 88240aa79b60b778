"""The SQL of an execution's life: its row created, ended once, its workflow's statistics.

Statistics live in `workflows`, keyed by (workflow id, file): two files that declare the same
id keep separate counts (issue 11.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flowrun.history import columns, daily, payloads
from flowrun.history.sql import Connection
from flowrun.status import LIVE_VALUES, ExecutionStatus

_WORKFLOW_OF = (
    "(SELECT workflow_id FROM executions WHERE id = ?) AND file = "
    "(SELECT file FROM executions WHERE id = ?)"
)


@dataclass
class ExecutionRecord:
    """An execution as created, kept while it is active so a fresh file (after damage) can
    be given its row again."""

    execution_id: str
    workflow_id: str
    file: str
    status: str
    trigger: str | None  # JSON text
    inputs: str | None
    created_at: float
    started_at: float | None
    owner_pid: int
    plan: str | None = None
    columns: dict[str, Any] = field(default_factory=dict)  # the others given (`columns.created`)


async def insert_execution(
    conn: Connection, record: ExecutionRecord, *, count: bool = True
) -> None:
    values = {
        "id": record.execution_id, "workflow_id": record.workflow_id, "file": record.file,
        "status": record.status, "trigger": record.trigger, "inputs": record.inputs,
        "plan": record.plan, "created_at": record.created_at, "started_at": record.started_at,
        "updated_at": record.created_at, "owner_pid": record.owner_pid, **record.columns,
    }  # fmt: skip
    marks = ", ".join("?" for _ in values)
    await conn.execute(
        f"INSERT INTO executions ({', '.join(values)}) VALUES ({marks})", tuple(values.values())
    )
    await conn.execute(
        "INSERT INTO workflows (id, file, last_execution_at, last_status, execution_count, "
        "last_inputs) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id, file) DO UPDATE SET "
        "last_execution_at = excluded.last_execution_at, last_status = excluded.last_status, "
        "execution_count = workflows.execution_count + excluded.execution_count, "
        "last_inputs = excluded.last_inputs",
        (record.workflow_id, record.file, record.created_at, record.status, 1 if count else 0,
         record.inputs),
    )  # fmt: skip


async def finish_row(
    conn: Connection,
    execution_id: str,
    status: str,
    outputs: str | None,
    error: str | None,
    finished_at: float,
    *,
    if_status: Sequence[str] = LIVE_VALUES,
) -> bool:
    """End a live execution once (True); an ended or paused one is left as it is (False).
    `if_status`: the statuses it may end from (a queued one only: not one a worker took)."""
    marks = ", ".join("?" for _ in if_status)
    cursor = await conn.execute(
        "UPDATE executions SET status = ?, outputs = coalesce(?, outputs), "
        "error = coalesce(?, error), finished_at = ?, updated_at = ?, "
        "duration_ms = max(0, CAST((? - coalesce(started_at, created_at)) * 1000 AS INTEGER)) "
        f"WHERE id = ? AND status IN ({marks})",
        (status, outputs, error, finished_at, finished_at, finished_at, execution_id,
         *if_status),
    )  # fmt: skip
    if cursor.rowcount != 1:
        return False
    await add_totals(conn, execution_id)
    await conn.execute(
        "UPDATE node_executions SET status = 'stopped', finished_at = ? "
        "WHERE execution_id = ? AND status = 'running'",
        (finished_at, execution_id),
    )
    await conn.execute(
        "UPDATE stage_executions SET status = 'stopped', finished_at = ? "
        "WHERE execution_id = ? AND status = 'running'",
        (finished_at, execution_id),
    )
    if status == ExecutionStatus.SUCCEEDED:
        await conn.execute(
            f"UPDATE workflows SET success_count = success_count + 1 WHERE id = {_WORKFLOW_OF}",
            (execution_id, execution_id),
        )
    await _update_last(conn, execution_id, status)
    return True


_TOTALS = ", ".join(
    f"{c} = (SELECT sum({c}) FROM node_executions n WHERE n.execution_id = ?)"
    for c in columns.METRIC_COLUMNS
)


async def add_totals(conn: Connection, execution_id: str) -> None:
    """An execution's totals: the sums over its node rows (null: no node measured any); and
    the execution added to its day's aggregates (`daily`)."""
    await conn.execute(
        f"UPDATE executions SET {_TOTALS} WHERE id = ?", (*[execution_id] * 4, execution_id)
    )
    await daily.add_execution(conn, execution_id)


async def correct_status(
    conn: Connection, execution_id: str, status: str, error: str | None
) -> None:
    """The supervisor's verdict differs from the engine's `execution_finished` (it timed the
    run out): the status and error become the supervisor's."""
    row = await (
        await conn.execute("SELECT status FROM executions WHERE id = ?", (execution_id,))
    ).fetchone()
    if row is None or row[0] == status:
        return
    await conn.execute(
        "UPDATE executions SET status = ?, error = coalesce(?, error) WHERE id = ?",
        (status, error, execution_id),
    )
    change = int(status == ExecutionStatus.SUCCEEDED) - int(row[0] == ExecutionStatus.SUCCEEDED)
    if change:
        await conn.execute(
            f"UPDATE workflows SET success_count = success_count + ? WHERE id = {_WORKFLOW_OF}",
            (change, execution_id, execution_id),
        )
        await daily.success_changed(conn, execution_id, change)
    await _update_last(conn, execution_id, status)


async def _update_last(conn: Connection, execution_id: str, status: str) -> None:
    await conn.execute(  # last_* only follow the newest execution of the workflow's file
        "UPDATE workflows SET last_status = ?, (last_duration_ms, last_cost_usd, "
        "last_llm_calls) = (SELECT duration_ms, cost_usd, llm_calls FROM executions WHERE id = ?) "
        f"WHERE id = {_WORKFLOW_OF} AND NOT EXISTS "
        "(SELECT 1 FROM executions e, executions x WHERE x.id = ? AND "
        "e.workflow_id = x.workflow_id AND e.file = x.file AND e.seq > x.seq)",
        (status, execution_id, execution_id, execution_id, execution_id),
    )


def interrupted_error(owner_pid: Any, last_event_at: float | None, detected_at: float) -> str:
    """The error of an execution whose flowrun process died (JSON text)."""
    from flowrun.history.tree import iso

    last = f"; its last recorded event was at {iso(last_event_at)}" if last_event_at else ""
    return (
        payloads.dump(
            {
                "type": "Interrupted",
                "message": f"interrupted: the flowrun process that ran this execution (pid "
                f"{owner_pid}) died before it finished; the duration runs until this was "
                f"detected at {iso(detected_at)}{last}.",
                "suggestion": "Run the workflow again.",
            }
        )
        or ""
    )
