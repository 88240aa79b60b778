"""What an execution's end adds to the daily aggregates `flowrun stats` reads (`stats`).

Per workflow file and UTC day of the execution's creation: `workflow_days` (executions,
successes, LLM calls, tokens, cost), `duration_days` (its duration's
bucket, `durations`) and `node_stats` (each node's attempts: runs, duration, tokens, cost).
They are written in the transaction that ends the execution (`rows.finish_row`), once per
execution, with upserts that add (atomic on PostgreSQL too, whichever machine ends it), and
they outlive retention's pruning. The day is `CAST(created_at / 86400 AS INTEGER)`, which
`dialect` makes truncate on PostgreSQL as on SQLite.
"""

from __future__ import annotations

from flowrun.history import durations
from flowrun.history.columns import METRIC_COLUMNS
from flowrun.history.sql import Connection


def _add(columns: tuple[str, ...], table: str) -> str:
    """`c = table.c + excluded.c` where null means none measured: null + x is x."""
    return ", ".join(
        f"{c} = coalesce({table}.{c} + excluded.{c}, {table}.{c}, excluded.{c})" for c in columns
    )


WORKFLOW_DAY = f"""INSERT INTO workflow_days (workflow_id, file, day, executions, succeeded,
    {", ".join(METRIC_COLUMNS)})
    SELECT workflow_id, file, CAST(created_at / 86400 AS INTEGER), 1,
        CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END, {", ".join(METRIC_COLUMNS)}
    FROM executions WHERE id = ?
    ON CONFLICT (workflow_id, file, day) DO UPDATE SET
        executions = workflow_days.executions + 1,
        succeeded = workflow_days.succeeded + excluded.succeeded,
        {_add(METRIC_COLUMNS, "workflow_days")}"""

NODE_STATS = f"""INSERT INTO node_stats
    (workflow_id, file, node_id, day, runs, duration_ms, max_duration_ms, tokens, cost_usd)
    SELECT e.workflow_id, e.file, n.node_id, CAST(e.created_at / 86400 AS INTEGER), count(*),
        sum(n.duration_ms), max(n.duration_ms), sum(n.input_tokens + n.output_tokens),
        sum(n.cost_usd)
    FROM executions e JOIN node_executions n ON n.execution_id = e.id
    WHERE e.id = ? AND n.status != 'skipped' GROUP BY 1, 2, 3, 4
    ON CONFLICT (workflow_id, file, node_id, day) DO UPDATE SET
        runs = node_stats.runs + excluded.runs,
        max_duration_ms = max(coalesce(node_stats.max_duration_ms, 0),
                              coalesce(excluded.max_duration_ms, 0)),
        {_add(("duration_ms", "tokens", "cost_usd"), "node_stats")}"""

SUCCESS_CHANGED = """UPDATE workflow_days SET succeeded = succeeded + ?
    WHERE (workflow_id, file, day) = (SELECT workflow_id, file, CAST(created_at / 86400 AS INTEGER)
                                      FROM executions WHERE id = ?)"""


def _duration_sql(column: str) -> str:
    return f"""INSERT INTO duration_days (workflow_id, file, day, decade, {column})
    SELECT workflow_id, file, CAST(created_at / 86400 AS INTEGER), ?, 1
    FROM executions WHERE id = ?
    ON CONFLICT (workflow_id, file, decade, day) DO UPDATE SET
        {column} = coalesce(duration_days.{column}, 0) + 1"""


DURATION = {column: _duration_sql(column) for column in durations.COLUMNS}


async def add_execution(conn: Connection, execution_id: str) -> None:
    """Add an execution that has just ended (its row has its duration and totals)."""
    await conn.execute(WORKFLOW_DAY, (execution_id,))
    await conn.execute(NODE_STATS, (execution_id,))
    cursor = await conn.execute("SELECT duration_ms FROM executions WHERE id = ?", (execution_id,))
    found = await cursor.fetchone()
    if found is not None and found[0] is not None:
        decade, column = durations.bucket_of(found[0])
        await conn.execute(DURATION[durations.COLUMNS[column]], (decade, execution_id))


async def success_changed(conn: Connection, execution_id: str, change: int) -> None:
    """The status of an ended execution was corrected: its day's successes follow."""
    await conn.execute(SUCCESS_CHANGED, (change, execution_id))
