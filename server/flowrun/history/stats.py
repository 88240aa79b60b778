"""`flowrun stats`: per workflow, how its runs went and what they cost, from the history.

For each workflow (id and file) with executions in the window: how many, the success rate,
the p50 and p95 duration, tokens and cost in total and per run, and its costliest and
slowest nodes. Read from the daily aggregates each execution's end adds to (`daily`):
`workflow_days`, `duration_days` and `node_stats`, three queries over a few rows per workflow
and UTC day, never the executions or their nodes, through the store's `Database` (SQLite or
PostgreSQL, the same SQL). So the window counts whole UTC days, from the start of the day
`since` falls on; the figures include executions retention has since pruned; p50 and p95 are
nearest-rank percentiles read from duration buckets (`durations`: within 12.2 %).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TypedDict, Unpack

from flowrun.history import durations
from flowrun.history.models import NodeCost, WorkflowCost
from flowrun.history.sql import Database, Row

TOP_NODES = 3
DAY = 86400


class CostWindow(TypedDict, total=False):
    """What `workflow_costs` takes, as keywords: one workflow (id or file), runs since a time."""

    workflow_id: str | None
    file: str | None
    since: float | None


TOTALS = """SELECT workflow_id, file, sum(executions) AS executions, sum(succeeded) AS succeeded,
    sum(llm_calls) AS llm_calls, CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
    CAST(sum(output_tokens) AS BIGINT) AS output_tokens, sum(cost_usd) AS cost_usd
    FROM workflow_days WHERE {where} GROUP BY workflow_id, file"""

HISTOGRAM = f"""SELECT workflow_id, file, decade,
    {", ".join(f"sum({c}) AS {c}" for c in durations.COLUMNS)}
    FROM duration_days WHERE {{where}} GROUP BY workflow_id, file, decade"""

NODES = """SELECT workflow_id, file, node_id, sum(runs) AS runs, sum(duration_ms) AS duration_ms,
    max(max_duration_ms) AS max_ms, sum(tokens) AS tokens, sum(cost_usd) AS cost_usd
    FROM node_stats WHERE {where} GROUP BY workflow_id, file, node_id"""

Key = tuple[str, str]


def _window(window: CostWindow) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column in ("workflow_id", "file"):
        if (value := window.get(column)) is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if (since := window.get("since")) is not None:
        clauses.append("day >= ?")
        params.append(int(since / DAY))  # as `CAST(created_at / 86400 AS INTEGER)` counts days
    return " AND ".join(clauses) or "1 = 1", params


async def workflow_costs(db: Database, **window: Unpack[CostWindow]) -> list[WorkflowCost]:
    """The statistics of each workflow file in the window, the most executed first."""
    where, params = _window(window)
    totals = await db.all(TOTALS.format(where=where), params)
    found: dict[Key, list[durations.Bucket]] = defaultdict(list)
    for row in await db.all(HISTOGRAM.format(where=where), params):
        counts = [row[column] for column in durations.COLUMNS]
        found[_key(row)] += durations.buckets(int(row["decade"]), counts)
    nodes: dict[Key, list[NodeCost]] = defaultdict(list)
    for row in await db.all(NODES.format(where=where), params):
        nodes[_key(row)].append(_node(row))
    costs = [_workflow(row, found[_key(row)], nodes[_key(row)]) for row in totals]
    return sorted(costs, key=lambda w: (-w["executions"], w["workflowId"], w["file"]))


def _key(row: Row) -> Key:
    return str(row["workflow_id"]), str(row["file"])


def _node(row: Row) -> NodeCost:
    runs, took = int(row["runs"]), row["duration_ms"]
    return {
        "id": row["node_id"],
        "runs": runs,
        "avgDurationMs": round(took / runs, 1) if took is not None and runs else None,
        "maxDurationMs": row["max_ms"],
        "tokens": row["tokens"],
        "costUsd": row["cost_usd"],
    }


def _workflow(row: Row, timed: list[durations.Bucket], nodes: list[NodeCost]) -> WorkflowCost:
    runs = int(row["executions"])
    succeeded = int(row["succeeded"] or 0)
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
        "succeeded": succeeded,
        "successRate": round(succeeded / runs, 4) if runs else 0.0,
        "p50DurationMs": durations.percentile(timed, 50),
        "p95DurationMs": durations.percentile(timed, 95),
        "llmCalls": calls,
        "inputTokens": row["input_tokens"] if calls else None,
        "outputTokens": row["output_tokens"] if calls else None,
        "costUsd": cost,
        "costPerRunUsd": cost / runs if cost is not None and runs else None,
        "tokensPerRun": round(tokens / runs, 1) if tokens is not None and runs else None,
        "costliestNodes": costly[:TOP_NODES],
        "slowestNodes": slow[:TOP_NODES],
    }
