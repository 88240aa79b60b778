"""Reading the history: listings, one execution's tree, id prefixes, statistics."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flowrun.history import columns, payloads, tree
from flowrun.history.models import ExecutionSummary, ExecutionTree, WorkflowStats
from flowrun.history.sql import Database
from flowrun.runs.errors import UnknownExecution

SUMMARY_COLUMNS = columns.SUMMARY_SELECT
LIST_HINT = "List executions with `flowrun history`."
NODE_COLUMNS_WITHOUT_LOGS = ", ".join((*columns.NODE_KEY, *columns.NODE_PATCHED, "NULL AS logs"))


async def list_executions(
    db: Database,
    *,
    workflow_id: str | None = None,
    file: str | None = None,
    status: str | None = None,
    since: float | None = None,
    before: str | None = None,
    limit: int = 50,
    mode: str | None = None,
) -> list[ExecutionSummary]:
    filters = (("workflow_id", workflow_id), ("file", file), ("status", status), ("mode", mode))
    clauses, params = where_clauses(filters, since)
    if before is not None:
        clauses.append("seq < coalesce((SELECT seq FROM executions WHERE id = ?), -1)")
        params.append(before)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT {SUMMARY_COLUMNS} FROM executions {where} ORDER BY seq DESC LIMIT ?"
    rows = await db.all(sql, (*params, max(limit, 0)))
    return [tree.summary(row) for row in rows]


def where_clauses(
    equal: Iterable[tuple[str, Any]], since: float | None
) -> tuple[list[str], list[Any]]:
    """`column = ?` for each value given, and `created_at >= ?` for `since`."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in equal:
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    return clauses, params


async def execution_tree(db: Database, execution_id: str) -> ExecutionTree:
    execution = await db.one("SELECT * FROM executions WHERE id = ?", (execution_id,))
    if execution is None:
        execution_id = await resolve_id(db, execution_id)
        execution = await db.one("SELECT * FROM executions WHERE id = ?", (execution_id,))
        if execution is None:  # pruned in between
            raise UnknownExecution(f"Execution {execution_id} is no longer in the history.")
    nodes = await db.all(
        "SELECT * FROM node_executions WHERE execution_id = ? ORDER BY rowid", (execution_id,)
    )
    stages = await db.all("SELECT * FROM stage_executions WHERE execution_id = ?", (execution_id,))
    return tree.build_tree(execution, nodes, stages)


async def execution_part(
    db: Database, execution_id: str, *, stage: Any = ..., node_id: str | None = None
) -> ExecutionTree:
    """The tree built from one stage's rows (None: the nodes outside stages), or one node's,
    without logs: what a live update of that part needs (`tree_patches`)."""
    execution = await db.one("SELECT * FROM executions WHERE id = ?", (execution_id,))
    if execution is None:
        raise UnknownExecution(f"No execution {execution_id} in {db.location}.")
    where, params = "execution_id = ?", [execution_id]
    if stage is not ...:
        where, params = where + " AND {} IS ?", [*params, stage]
    node_where, node_params = where.format("stage"), list(params)
    if node_id is not None:
        node_where, node_params = node_where + " AND node_id = ?", [*params, node_id]
    nodes = await db.all(
        f"SELECT {NODE_COLUMNS_WITHOUT_LOGS} FROM node_executions WHERE {node_where} "
        "ORDER BY rowid",
        node_params,
    )
    stage_where = where.format("stage_id")
    stages = await db.all(f"SELECT * FROM stage_executions WHERE {stage_where}", params)
    execution["plan"] = _plan_part(execution["plan"], stage, node_id)
    return tree.build_tree(execution, nodes, stages)


def _plan_part(plan_text: str | None, stage: Any, node_id: str | None) -> str | None:
    """The plan cut to the stage or node asked for: the tree of a part costs that part only."""
    if stage is ... and node_id is None:
        return plan_text
    plan = payloads.load(plan_text)
    if not isinstance(plan, dict) or not isinstance(plan.get("stages"), list):
        return plan_text
    stages = [s for s in plan["stages"] if stage is ... or s.get("id") == stage]
    if node_id is not None:
        stages = [
            {**s, "nodes": [n for n in s.get("nodes") or [] if n.get("id") == node_id]}
            for s in stages
        ]
        stages = [s for s in stages if s["nodes"]]
    return json.dumps({**plan, "stages": stages})


async def resolve_id(db: Database, prefix: str) -> str:
    prefix = prefix.strip()
    if not prefix:
        raise UnknownExecution("No execution id given.", suggestion=LIST_HINT)
    if await db.one("SELECT 1 FROM executions WHERE id = ?", (prefix,)) is not None:
        return prefix
    for candidate in dict.fromkeys((prefix, prefix.lower())):
        rows = await db.all(
            "SELECT id FROM executions WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
            (candidate, candidate + "\U0010ffff"),
        )
        if len(rows) == 1:
            return str(rows[0]["id"])
        if rows:
            shown = ", ".join(str(row["id"])[:12] for row in rows[:5])
            raise UnknownExecution(
                f"The id prefix '{prefix}' matches more than one execution ({shown}…).",
                suggestion="Give more characters of the id.",
            )
    raise UnknownExecution(
        f"No execution with an id starting with '{prefix}' in {db.location}.", suggestion=LIST_HINT
    )


async def workflow_stats(
    db: Database, workflow_id: str, file: str | None = None
) -> WorkflowStats | None:
    """The statistics of one workflow file; without `file`, of the id's newest file."""
    if file is None:
        row = await db.one(
            "SELECT * FROM workflows WHERE id = ? ORDER BY last_execution_at DESC LIMIT 1",
            (workflow_id,),
        )
    else:
        row = await db.one("SELECT * FROM workflows WHERE id = ? AND file = ?", (workflow_id, file))
    if row is None:
        return None
    return {
        "lastExecutionAt": tree.iso(row["last_execution_at"]),
        "lastStatus": row["last_status"],
        "executionCount": row["execution_count"],
        "successCount": row["success_count"],
        "lastDurationMs": row["last_duration_ms"],
        "lastInputs": payloads.load(row["last_inputs"]),
        "lastCostUsd": row["last_cost_usd"],
        "lastLlmCalls": row["last_llm_calls"],
    }


async def process_of(db: Database, execution_id: str) -> tuple[int | None, int | None]:
    row = await db.one("SELECT owner_pid, pgid FROM executions WHERE id = ?", (execution_id,))
    if row is None:
        raise UnknownExecution(f"No execution {execution_id} in {db.location}.")
    return row["owner_pid"], row["pgid"]


async def node_outputs(db: Database, execution_id: str) -> dict[str, Any]:
    rows = await db.all(
        "SELECT node_id, output FROM node_executions WHERE execution_id = ? AND "
        "status = 'succeeded' ORDER BY iteration, attempt",
        (execution_id,),
    )
    return {row["node_id"]: payloads.load(row["output"]) for row in rows}


async def node_hashes(db: Database, execution_id: str) -> dict[str, str]:
    """The definition hash (`config_hash`) of each node it recorded, whatever its status."""
    rows = await db.all(
        "SELECT node_id, config_hash FROM node_executions WHERE execution_id = ? AND "
        "config_hash IS NOT NULL ORDER BY iteration, attempt",
        (execution_id,),
    )
    return {row["node_id"]: str(row["config_hash"]) for row in rows}


async def status_of(db: Database, execution_id: str) -> str | None:
    row = await db.one("SELECT status FROM executions WHERE id = ?", (execution_id,))
    return None if row is None else str(row["status"])
