"""Each node's definition hash (design §9 `hash`, stored as `node_executions.config_hash`):
sha256 of its resolved configuration (its `with`, code, `when`, retry, timeout, pin, …; not
its line in the file) and its stage's mode and loop, plus the hashes of the nodes it uses
(`needs`, the nodes its `with` and `when` read, the one before it in a sequential stage).

A formatting-only edit (comments, blank lines, key order, quoting) keeps every hash; any edit
that changes what a node does changes its hash and its downstream nodes'. A resume compares
them with the recorded ones to report the completed nodes whose definition changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from flowrun_engine.plan import referenced_nodes

_NOT_DEFINITION = ("code_line", "hash")  # where it is in the file; the hash itself


def add_hashes(workflow: dict[str, Any]) -> None:
    """Set `hash` on every node of the resolved `workflow` (in place)."""
    nodes, uses = node_uses(workflow)
    for stage in workflow.get("stages") or []:
        material = {"mode": stage.get("mode"), "loop": stage.get("loop")}
        for node in stage.get("nodes") or []:
            node["_stage"] = material
    hashes: dict[str, str] = {}
    for node_id in nodes:
        _hash(node_id, nodes, uses, hashes, set())
    for node_id, node in nodes.items():
        node.pop("_stage", None)
        node["hash"] = hashes[node_id]


def node_uses(
    workflow: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """The resolved `workflow`'s nodes by id, and the nodes each one uses (what its hash
    includes)."""
    nodes: dict[str, dict[str, Any]] = {}
    uses: dict[str, set[str]] = {}
    for stage in workflow.get("stages") or []:
        previous: str | None = None
        for node in stage.get("nodes") or []:
            node_id = str(node["id"])
            needs = node.get("needs") or []
            used = {needs} if isinstance(needs, str) else {str(n) for n in needs}
            used |= referenced_nodes([node.get("with"), node.get("when")])
            if stage.get("mode") == "sequential" and previous is not None:
                used.add(previous)
            nodes[node_id], uses[node_id] = node, used - {node_id}
            previous = node_id
    return nodes, uses


def _hash(
    node_id: str,
    nodes: Mapping[str, dict[str, Any]],
    uses: Mapping[str, set[str]],
    hashes: dict[str, str],
    visiting: set[str],
) -> str:
    if node_id in hashes:
        return hashes[node_id]
    visiting.add(node_id)  # the validator refuses cycles; this only keeps a bad file finite
    upstream = sorted(
        _hash(n, nodes, uses, hashes, visiting)
        for n in uses[node_id]
        if n in nodes and n not in visiting
    )
    definition = {k: v for k, v in nodes[node_id].items() if k not in _NOT_DEFINITION}
    text = json.dumps([definition, upstream], sort_keys=True, default=str)
    hashes[node_id] = hashlib.sha256(text.encode()).hexdigest()[:16]
    visiting.discard(node_id)
    return hashes[node_id]
