"""Two execution trees → what changed, node by node (status, duration, output, error, cost).

Pure. Nodes are matched by (stage, node id, loop iteration). A node is `changed` when its
status, output or error differ; durations, tokens and costs are reported (`{a, b, delta}`)
but never make a change alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

MAX_CHANGES = 20
SHORT = 120

NodeKey = tuple[str | None, str, int | None]


def diff_trees(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    nodes_a, nodes_b = _nodes(a), _nodes(b)
    keys = list(nodes_a) + [key for key in nodes_b if key not in nodes_a]
    rows = [_node_diff(key, nodes_a.get(key), nodes_b.get(key)) for key in keys]
    counts = {name: 0 for name in ("changed", "added", "removed", "same")}
    for row in rows:
        counts[row["change"]] += 1
    return {
        "a": _side(a),
        "b": _side(b),
        "sameWorkflow": a.get("workflowId") == b.get("workflowId"),
        "summary": counts,
        "outputs": value_changes(a.get("outputs"), b.get("outputs")),
        "cost": cost_change(a, b),
        "nodes": rows,
    }


def cost_change(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> dict[str, Any]:
    """`{llmCalls, tokens, costUsd}`, each `{a, b, delta}` (delta null when a side is)."""

    def tokens(item: Mapping[str, Any] | None) -> int | None:
        if not item or item.get("llmCalls") is None:
            return None
        return int(item.get("inputTokens") or 0) + int(item.get("outputTokens") or 0)

    def pair(va: Any, vb: Any) -> dict[str, Any]:
        delta = vb - va if va is not None and vb is not None else None
        return {"a": va, "b": vb, "delta": delta}

    return {
        "llmCalls": pair(a.get("llmCalls") if a else None, b.get("llmCalls") if b else None),
        "tokens": pair(tokens(a), tokens(b)),
        "costUsd": pair(a.get("costUsd") if a else None, b.get("costUsd") if b else None),
    }


def value_changes(a: Any, b: Any) -> dict[str, Any]:
    """`{"changes": [{path, a, b}], "more": n}`: where two JSON values differ (capped)."""
    found = list(_walk(a, b, ""))
    changes = [
        {"path": path or "(whole value)", "a": _short(va), "b": _short(vb)}
        for path, va, vb in found[:MAX_CHANGES]
    ]
    return {"changes": changes, "more": max(len(found) - MAX_CHANGES, 0)}


def _side(tree: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "workflowId", "status", "startedAt", "durationMs")
    return {key: tree.get(key) for key in keys}


def _nodes(tree: Mapping[str, Any]) -> dict[NodeKey, Mapping[str, Any]]:
    found: dict[NodeKey, Mapping[str, Any]] = {}
    for child in tree.get("children") or []:
        if child.get("kind") == "stage":
            for node in child.get("children") or []:
                found[(child.get("id"), node["id"], node.get("iteration"))] = node
        elif child.get("kind") == "node":
            found[(None, child["id"], child.get("iteration"))] = child
    return found


def _node_diff(
    key: NodeKey, a: Mapping[str, Any] | None, b: Mapping[str, Any] | None
) -> dict[str, Any]:
    stage, node_id, iteration = key
    row: dict[str, Any] = {"stage": stage, "id": node_id, "iteration": iteration}
    status_a = a.get("status") if a else None
    status_b = b.get("status") if b else None
    duration_a = a.get("durationMs") if a else None
    duration_b = b.get("durationMs") if b else None
    delta = duration_b - duration_a if duration_a is not None and duration_b is not None else None
    output = value_changes(a.get("output") if a else None, b.get("output") if b else None)
    error = value_changes(_message(a), _message(b))
    if a is None:
        change = "added"
    elif b is None:
        change = "removed"
    elif status_a != status_b or output["changes"] or error["changes"]:
        change = "changed"
    else:
        change = "same"
    row.update(
        change=change,
        status={"a": status_a, "b": status_b},
        durationMs={"a": duration_a, "b": duration_b, "delta": delta},
        output=output,
        error={"a": _message(a), "b": _message(b)},
        cost=cost_change(a, b),
    )
    return row


def _message(node: Mapping[str, Any] | None) -> str | None:
    error = node.get("error") if node else None
    if isinstance(error, Mapping):
        return f"{error.get('type')}: {error.get('message')}"
    return None if error is None else str(error)


def _walk(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in b:
                yield sub, a[key], None
            elif key not in a:
                yield sub, None, b[key]
            else:
                yield from _walk(a[key], b[key], sub)
    elif isinstance(a, list) and isinstance(b, list):
        for index in range(max(len(a), len(b))):
            sub = f"{path}[{index}]"
            if index >= len(a):
                yield sub, None, b[index]
            elif index >= len(b):
                yield sub, a[index], None
            else:
                yield from _walk(a[index], b[index], sub)
    elif a != b or type(a) is not type(b):
        yield path, a, b


def _short(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        if isinstance(value, str) and len(value) > SHORT:
            return value[: SHORT - 1] + "…"
        return value
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= SHORT else text[: SHORT - 1] + "…"
