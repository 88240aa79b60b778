"""Engine events → patches of the execution tree, so the editor renders and never folds.

A patch holds the part of the `flowrun/execution` tree (design §7) that an event changed,
read back from the history once the event is committed (the run service announces an event
only then), so `tree.py` stays the one place that knows loop iterations, plan order,
placeholders and statuses:

* `execution_started`, `execution_finished`: `execution`, the whole tree;
* `stage_*` and every event of a node inside a loop stage (a new iteration adds nodes):
  `stage`, that stage with all its nodes;
* other node events: `node`, that node;
* `node_log`: `logs`, the node's key and the appended lines (no store read: logs are the
  bulk of the events).

Nodes in a patch carry no `logs`: the client keeps the lines it has for a node of the same
key and appends those of `logs` patches. A client that meets a key it does not know asks
for the whole tree (`flowrun/execution`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

from flowrun.history import tree
from flowrun.history.interface import HistoryBackend
from flowrun_engine import events as ev

Element = dict[str, Any]
NODE_EVENTS = frozenset({ev.NODE_STARTED, ev.NODE_RETRY, ev.NODE_FINISHED})
EXECUTION_EVENTS = frozenset({ev.EXECUTION_STARTED, ev.EXECUTION_FINISHED})
STAGE_EVENTS = frozenset({ev.STAGE_STARTED, ev.STAGE_FINISHED})


class LogAppend(TypedDict):
    stage: str | None
    node: str
    iteration: int | None
    lines: list[dict[str, Any]]


class TreePatch(TypedDict):
    execution: NotRequired[Element]
    stage: NotRequired[Element]
    node: NotRequired[Element]
    logs: NotRequired[LogAppend]


async def patch_for(
    store: HistoryBackend, execution_id: str, event: Mapping[str, Any]
) -> TreePatch | None:
    """The patch that brings a client's tree up to date with `event` (recorded already);
    None for events the tree does not show."""
    name = event.get("event")
    stage, node_id, iteration = event.get("stage"), event.get("node"), event.get("iteration")
    if name == ev.NODE_LOG:
        return {"logs": log_append(event)}
    if name in EXECUTION_EVENTS:
        return {"execution": _without_logs(await _tree(store, execution_id))}
    if name in STAGE_EVENTS or (name in NODE_EVENTS and stage is not None and iteration):
        whole = await _tree(store, execution_id, stage=stage)
        found = _find(whole["children"], "stage", stage)
        return None if found is None else {"stage": _without_logs(found)}
    if name in NODE_EVENTS:
        whole = await _tree(store, execution_id, node_id=node_id)
        found = _find(_nodes(whole), "node", node_id, iteration or None)
        return None if found is None else {"node": _without_logs(found)}
    return None


def log_append(event: Mapping[str, Any]) -> LogAppend:
    t = event.get("t")
    line = {
        "t": tree.iso(t) if isinstance(t, int | float) else None,
        "stream": event.get("stream") or "stdout",
        "text": str(event.get("text", "")),
        "attempt": event.get("attempt"),
    }
    return {
        "stage": event.get("stage"),
        "node": str(event.get("node")),
        "iteration": event.get("iteration") or None,
        "lines": [line],
    }


async def _tree(
    store: HistoryBackend, execution_id: str, *, stage: Any = ..., node_id: Any = None
) -> Element:
    # events are announced once committed (runs/announcer.py): no flush needed here
    return dict(await store.execution_part(execution_id, stage=stage, node_id=node_id))


def _nodes(whole: Element) -> list[Element]:
    return [
        node
        for child in whole["children"]
        for node in (child["children"] if child["kind"] == "stage" else [child])
    ]


def _find(
    elements: list[Element], kind: str, element_id: Any, iteration: Any = None
) -> Element | None:
    for element in elements:
        same = element["kind"] == kind and element["id"] == element_id
        if same and (kind == "stage" or element.get("iteration") == iteration):
            return element
    return None


def _without_logs(element: Element) -> Element:
    """A copy without `logs` on any node (the client keeps the lines it has)."""
    copy = {key: value for key, value in element.items() if key != "logs"}
    if "children" in copy:
        copy["children"] = [_without_logs(child) for child in copy["children"]]
    return copy
