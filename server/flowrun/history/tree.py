"""Stored rows → the JSON shapes of design §7 (`flowrun.history.models`): the execution tree
and execution summaries.

Pure functions: rows are mappings keyed by column name, JSON columns still as text.

Loops: a loop stage has one child per node *per iteration*, in iteration order, each with
`iteration` set (1-based); the stage carries `iterations` (how many ran). Outside loops
`iteration` is null. A stage row without an iteration (`stage_finished` with `iteration:
null`) is the stage as a whole: a loop whose `until` never held is `failed` with its error.
Nodes of the plan that never ran appear as `pending` while the execution is active and
`skipped` once it ended; a node or stage still `running` in an ended execution (its process
died) is shown `stopped`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from flowrun.history import columns, payloads
from flowrun.history.models import (
    ErrorSummary,
    ExecutionHead,
    ExecutionSummary,
    ExecutionTree,
    LogEntry,
    NodeElement,
    StageElement,
)
from flowrun.status import NodeStatus, is_active

Row = Mapping[str, Any]
_HEAD_KEYS = dict.fromkeys(ExecutionHead.__annotations__)
_NODE_KEYS = dict.fromkeys(NodeElement.__annotations__)


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    stamp = datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def trigger_summary(trigger: Any) -> str:
    """`POST /summarize` for a request; `manual` when there is none or it is the empty
    `GET /` that resolve fills in for a manual run."""
    if not isinstance(trigger, Mapping):
        return "manual"
    method, path = trigger.get("method"), trigger.get("path")
    empty = not any(trigger.get(key) for key in ("headers", "query", "body"))
    if empty and str(method or "GET").upper() == "GET" and (path or "/") == "/":
        return str(trigger.get("type") or "manual")
    return " ".join(str(part) for part in (method, path) if part)


def head(row: Row) -> ExecutionHead:
    """The fields a summary and a tree share, in the order of `ExecutionHead`."""
    derived = {
        "startedAt": iso(row["started_at"] or row["created_at"]),
        "finishedAt": iso(row["finished_at"]),
    }
    return cast(ExecutionHead, _fields(_HEAD_KEYS, derived, columns.HEAD_READERS, row))


def summary(row: Row) -> ExecutionSummary:
    loaded = payloads.load(row["error"])
    error: ErrorSummary | None = None
    if isinstance(loaded, Mapping):
        error = {"type": loaded.get("type"), "message": loaded.get("message")}
    elif loaded is not None:
        error = {"type": None, "message": str(loaded)}
    trigger = trigger_summary(payloads.load(row["trigger"]))
    return {**head(row), "trigger": trigger, "error": error}


def node_elements(children: Sequence[Any]) -> list[Any]:
    """The nodes of a tree's `children` (inside stages or not), in order."""
    found: list[Any] = []
    for child in children:
        found.extend(node_elements(child["children"]) if child["kind"] == "stage" else [child])
    return found


def build_tree(execution: Row, nodes: Sequence[Row], stages: Sequence[Row]) -> ExecutionTree:
    active = is_active(execution["status"])
    attempts = _group_attempts(nodes)
    stage_rows = {(row["stage_id"], row["iteration"]): row for row in stages}
    children: list[NodeElement | StageElement] = []
    for stage in _plan_stages(execution, nodes):
        elements = _stage_nodes(stage, attempts, active)
        if stage["id"] is None:
            children.extend(elements)
        else:
            children.append(_stage_element(stage, elements, stage_rows, active))
    return {
        **head(execution),
        "trigger": payloads.load(execution["trigger"]),
        "inputs": payloads.load(execution["inputs"]),
        "outputs": payloads.load(execution["outputs"]),
        "error": payloads.load(execution["error"]),
        "children": children,
    }


def _fields(
    keys: Mapping[str, None], derived: Mapping[str, Any], readers: columns.Readers, row: Row
) -> dict[str, Any]:
    """The derived fields and the stored ones read from `row`, in the order of their
    TypedDict (`keys`), so the JSON keeps the order it always had."""
    fields = {**keys, **derived}
    for field, name, read in readers:
        fields[field] = read(row.get(name))
    return fields


def _group_attempts(nodes: Iterable[Row]) -> dict[tuple[str, int], list[Row]]:
    grouped: dict[tuple[str, int], list[Row]] = {}
    for row in nodes:
        grouped.setdefault((row["node_id"], row["iteration"] or 0), []).append(row)
    for rows in grouped.values():
        rows.sort(key=lambda r: r["attempt"])
    return grouped


def _plan_stages(execution: Row, nodes: Sequence[Row]) -> list[dict[str, Any]]:
    """The plan's stages, plus any stage or node seen in the rows but missing from the plan."""
    plan = payloads.load(execution["plan"])
    stages: list[dict[str, Any]] = []
    if isinstance(plan, Mapping):
        for stage in plan.get("stages") or []:
            plan_nodes = [dict(n) for n in stage.get("nodes") or [] if isinstance(n, Mapping)]
            stages.append(
                {"id": stage.get("id"), "loop": bool(stage.get("loop")), "nodes": plan_nodes}
            )
    known = {n.get("id") for s in stages for n in s["nodes"]}
    ordered = sorted(nodes, key=lambda r: r["started_at"] or r["finished_at"] or 0.0)
    for row in ordered:
        if row["node_id"] in known:
            continue
        known.add(row["node_id"])
        stage = next((s for s in stages if s["id"] == row["stage"]), None)
        if stage is None:
            stage = {"id": row["stage"], "loop": False, "nodes": []}
            stages.append(stage)
        stage["nodes"].append({"id": row["node_id"], "type": None, "name": None})
    return stages


def _stage_nodes(
    stage: Mapping[str, Any], attempts: Mapping[tuple[str, int], list[Row]], active: bool
) -> list[NodeElement]:
    ids = [str(n.get("id")) for n in stage["nodes"]]
    iterations = sorted({it for (node, it) in attempts if node in ids}) or [0]
    elements: list[NodeElement] = []
    for iteration in iterations:
        for plan_node in stage["nodes"]:
            rows = attempts.get((str(plan_node.get("id")), iteration), [])
            elements.append(_node_element(plan_node, stage["id"], iteration, rows, active))
    return elements


def _node_element(
    plan_node: Mapping[str, Any],
    stage: str | None,
    iteration: int,
    rows: Sequence[Row],
    active: bool,
) -> NodeElement:
    last = rows[-1] if rows else None
    status = last["status"] if last else (NodeStatus.PENDING if active else NodeStatus.SKIPPED)
    attempts = max(row["attempt"] for row in rows) if rows else 0
    fixed = bool(last and (last["given"] or last.get("mocked") or last.get("cached")))  # said so
    derived = {
        "kind": "node",
        "id": str(plan_node.get("id")),
        "type": plan_node.get("type"),
        "name": plan_node.get("name"),
        "stage": stage,
        "iteration": iteration or None,
        "status": _ended(status, active),
        "attempts": attempts,
        "startedAt": iso(last["started_at"]) if last else None,
        "finishedAt": iso(last["finished_at"]) if last else None,
        "logs": [_log_entry(e) for row in rows for e in payloads.load_logs(row["logs"])],
        "retries": [
            {"attempt": row["attempt"], "error": payloads.load(row["error"])} for row in rows[:-1]
        ],
        # a pinned node's only event is node_finished with attempt 0 (a given, mocked or cached
        # one says so)
        "pinned": bool(last) and status == NodeStatus.SUCCEEDED and attempts == 0 and not fixed,
    }
    return cast(NodeElement, _fields(_NODE_KEYS, derived, columns.NODE_READERS, last or {}))


def _ended(status: str, active: bool) -> str:
    """A node or stage still `running` in an execution that ended was stopped."""
    return NodeStatus.STOPPED if status == NodeStatus.RUNNING and not active else status


def _log_entry(entry: Mapping[str, Any]) -> LogEntry:
    t = entry.get("t")
    return {
        "t": iso(t) if isinstance(t, int | float) else None,
        "stream": entry.get("stream"),
        "text": entry.get("text"),
        "attempt": entry.get("attempt"),
    }


def _stage_element(
    stage: Mapping[str, Any],
    children: list[NodeElement],
    stage_rows: Mapping[tuple[str, int], Row],
    active: bool,
) -> StageElement:
    iterations = sorted({c["iteration"] or 0 for c in children})
    rows = [stage_rows[(stage["id"], it)] for it in iterations if (stage["id"], it) in stage_rows]
    whole = stage_rows.get((stage["id"], 0))  # the stage as a whole, when it said so
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    decided = whole if whole is not None else last
    if decided is not None:
        status = decided["status"]
    else:
        status = _derived_status([c["status"] for c in children], active)
    started = first["started_at"] if first else None
    finished = max(
        (r["finished_at"] for r in (last, whole) if r is not None and r["finished_at"]),
        default=None,
    )
    duration = round((finished - started) * 1000) if started and finished else None
    return {
        "kind": "stage",
        "id": str(stage["id"]),
        "status": _ended(status, active),
        "loop": bool(stage["loop"]),
        "iterations": len([it for it in iterations if it]) or None,
        "startedAt": iso(started),
        "finishedAt": iso(finished),
        "durationMs": duration,
        "error": payloads.load(decided.get("error")) if decided is not None else None,
        "children": children,
    }


def _derived_status(statuses: Sequence[str], active: bool) -> str:
    if not statuses:
        return NodeStatus.PENDING if active else NodeStatus.SKIPPED
    for status in (NodeStatus.RUNNING, NodeStatus.FAILED, NodeStatus.STOPPED):
        if status in statuses:
            return status
    if all(s == NodeStatus.SKIPPED for s in statuses):
        return NodeStatus.SKIPPED
    if NodeStatus.PENDING in statuses:
        busy = active and any(s != NodeStatus.PENDING for s in statuses)
        return NodeStatus.RUNNING if busy else NodeStatus.PENDING
    return NodeStatus.SUCCEEDED
