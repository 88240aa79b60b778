"""`flowrun stats`: per workflow, how its runs went and what they cost, from the history.

For each workflow (id and file) with executions in the window: how many, the success rate,
the p50 and p95 duration, tokens and cost in total and per run, and its costliest and
slowest nodes. Percentiles are nearest-rank over the executions that have a duration. The
aggregates run in SQLite over the `executions_stats` index (one pass for the totals, then
per workflow a walk to each percentile's rank along its durations) and `node_stats` (each
node's attempts summed per UTC day as executions end: node figures count whole days, from
the day `since` falls on, and outlive retention's pruning), never over the node rows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, TypedDict, Unpack

from flowrun.history.models import NodeCost, WorkflowCost
from flowrun.history.reader import where_clauses

TOP_NODES = 3


class CostWindow(TypedDict, total=False):
    """What `workflow_costs` takes, as keywords: one workflow (id or file), runs since a time."""

    workflow_id: str | None
    file: str | None
    since: float | None


def _window(
    workflow_id: str | None, file: str | None, since: float | None
) -> tuple[str, list[Any]]:
    clauses, params = where_clauses((("workflow_id", workflow_id), ("file", file)), since)
    return " AND ".join(clauses) or "1", params


TOTALS = """SELECT workflow_id, file, count(*) AS executions,
    sum(status = 'succeeded') AS succeeded, sum(llm_calls) AS llm_calls,
    sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
    sum(cost_usd) AS cost_usd, count(duration_ms) AS timed
    FROM executions WHERE {where} GROUP BY workflow_id, file"""

AT_RANK = """SELECT duration_ms FROM executions WHERE workflow_id = ? AND file = ? AND {where}
    AND duration_ms IS NOT NULL ORDER BY duration_ms LIMIT 1 OFFSET ?"""

NODES = """SELECT workflow_id, file, node_id, sum(runs) AS runs,
    CAST(sum(duration_ms) AS REAL) / sum(runs) AS avg_ms, max(max_duration_ms) AS max_ms,
    sum(tokens) AS tokens, sum(cost_usd) AS cost_usd
    FROM node_stats WHERE {where} GROUP BY workflow_id, file, node_id"""


def workflow_costs(path: Path, **window: Unpack[CostWindow]) -> list[WorkflowCost]:
    """The statistics of each workflow file in the window, the most executed first. Blocking:
    its own read-only connection, so the ~2 queries per workflow cost no thread hop each (the
    store runs it in a worker thread)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    conn.row_factory = _dict_row
    try:
        return _costs(conn, window.get("workflow_id"), window.get("file"), window.get("since"))
    finally:
        conn.close()


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def _costs(
    conn: sqlite3.Connection, workflow_id: str | None, file: str | None, since: float | None
) -> list[WorkflowCost]:
    where, params = _window(workflow_id, file, since)
    ended = f"{where} AND status NOT IN ('queued', 'running', 'paused')"
    totals = conn.execute(TOTALS.format(where=ended), params).fetchall()
    ranks = {
        (row["workflow_id"], row["file"]): _percentiles(conn, row, ended, params) for row in totals
    }
    by_day = where.replace("created_at >= ?", "day >= CAST(? / 86400 AS INTEGER)")
    nodes: dict[tuple[str, str], list[NodeCost]] = {}
    for row in conn.execute(NODES.format(where=by_day), params):
        nodes.setdefault((row["workflow_id"], row["file"]), []).append(_node(row))
    found = [_workflow(row, ranks[key := (row["workflow_id"], row["file"])], nodes.get(key, []))
             for row in totals]  # fmt: skip
    return sorted(found, key=lambda w: (-w["executions"], w["workflowId"], w["file"]))


def _percentiles(
    conn: sqlite3.Connection, row: dict[str, Any], where: str, params: list[Any]
) -> dict[str, Any]:
    """p50 and p95 (nearest rank) of one workflow's durations, read at their ranks."""
    found: dict[str, Any] = {}
    timed = int(row["timed"] or 0)
    for name, rank in (("p50", (timed + 1) // 2), ("p95", (95 * timed + 99) // 100)):
        at = None
        if rank:
            sql = AT_RANK.format(where=where)
            at = conn.execute(sql, (row["workflow_id"], row["file"], *params, rank - 1)).fetchone()
        found[name] = at["duration_ms"] if at else None
    return found


def _node(row: dict[str, Any]) -> NodeCost:
    avg = row["avg_ms"]
    return {
        "id": row["node_id"],
        "runs": row["runs"],
        "avgDurationMs": round(avg, 1) if avg is not None else None,
        "maxDurationMs": row["max_ms"],
        "tokens": row["tokens"],
        "costUsd": row["cost_usd"],
    }


def _workflow(row: dict[str, Any], ranks: dict[str, Any], nodes: list[NodeCost]) -> WorkflowCost:
    runs = int(row["executions"])
    cost, calls = row["cost_usd"], row["llm_calls"]
    tokens = (row["input_tokens"] or 0) + (row["output_tokens"] or 0) if calls else None
    costly = sorted((n for n in nodes if n["costUsd"]), key=lambda n: -(n["costUsd"] or 0))
    slow = sorted(
        (n for n in nodes if n["avgDurationMs"] is not None),
        key=lambda n: -(n["avgDurationMs"] or 0),
    )
    return {
        "workflowId": row["workflow_id"],
        "file": row["file"],
        "executions": runs,
        "succeeded": int(row["succeeded"] or 0),
        "successRate": round((row["succeeded"] or 0) / runs, 4) if runs else 0.0,
        "p50DurationMs": ranks["p50"],
        "p95DurationMs": ranks["p95"],
        "llmCalls": calls,
        "inputTokens": row["input_tokens"] if calls else None,
        "outputTokens": row["output_tokens"] if calls else None,
        "costUsd": cost,
        "costPerRunUsd": cost / runs if cost is not None and runs else None,
        "tokensPerRun": round(tokens / runs, 1) if tokens is not None and runs else None,
        "costliestNodes": costly[:TOP_NODES],
        "slowestNodes": slow[:TOP_NODES],
    }
