"""Re-running from a node: the outputs of an earlier execution given to the nodes upstream,
and the inputs and trigger that execution ran with (so the re-run sees what they saw), with
those the caller gives over them (`request_from`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flowrun.history.interface import HistoryBackend


@dataclass(frozen=True)
class RerunSource:
    execution_id: str
    inputs: dict[str, Any] | None
    trigger: dict[str, Any] | None


async def rerun_source(
    store: HistoryBackend, workflow_id: str, from_execution: str | None
) -> RerunSource | None:
    """The execution a re-run starts from: `from_execution` (an id or a prefix) or else the
    workflow's latest; None when the workflow never ran."""
    source = from_execution
    if source is None:
        summaries = await store.list_executions(workflow_id=workflow_id, limit=1)
        if not summaries:
            return None
        source = str(summaries[0]["id"])
    tree = await store.execution_tree(await store.resolve_id(source))
    inputs, trigger = tree.get("inputs"), tree.get("trigger")
    return RerunSource(
        execution_id=str(tree["id"]),
        inputs=inputs if isinstance(inputs, dict) else None,
        trigger=trigger if isinstance(trigger, dict) else None,
    )


class Recorded(Protocol):
    """The request an earlier execution ran with (`RerunSource`, `runs.changed.Base`)."""

    @property
    def inputs(self) -> dict[str, Any] | None: ...

    @property
    def trigger(self) -> dict[str, Any] | None: ...


def request_from(
    base: Recorded | None, inputs: dict[str, Any] | None, trigger: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The inputs and trigger of a run that starts from `base` (Run from here, `--from-execution`,
    Re-run changed, `--changed`), the one rule of the editor and the CLI: the given inputs
    override the base's key by key; a given trigger replaces the base's (None: not given)."""
    if base is None:
        return inputs, trigger
    if base.inputs is not None or inputs is not None:
        inputs = {**(base.inputs or {}), **(inputs or {})}
    return inputs, base.trigger if trigger is None else trigger


Parent = tuple[str | None, str | None]  # (parent execution, from node), as the history keeps


class StartPoint(Protocol):
    """Where a run starts other than from scratch: Run from here (`Rerun`), a resume
    (`runs.resume.Resume`), a change-aware run (`runs.changed.ChangedRun`). Each gives the
    resolved workflow the recorded outputs it reuses (`options.given_outputs`)."""

    async def start(self, resolved: dict[str, Any], path: Path, store: HistoryBackend) -> Parent:
        """Give `resolved` what it reuses; the parent execution and node to record."""
        ...


@dataclass(frozen=True)
class Rerun:
    """Run from here: the outputs upstream of `from_node`, from `from_execution` (an id or a
    prefix; None: the workflow's latest execution)."""

    from_execution: str | None = None
    from_node: str | None = None

    async def start(self, resolved: dict[str, Any], path: Path, store: HistoryBackend) -> Parent:
        execution = self.from_execution
        if execution is not None:
            execution = await store.resolve_id(execution)
        options = resolved["options"]
        options["given_outputs"] = await given_outputs(store, resolved, execution, self.from_node)
        return execution, self.from_node


def rerun_from(from_execution: str | None, from_node: str | None) -> Rerun | None:
    """The `Rerun` that `--from-execution` / `--from-node` (or their LSP params) ask for."""
    if from_execution is None and from_node is None:
        return None
    return Rerun(from_execution, from_node)


async def given_outputs(
    store: HistoryBackend,
    resolved: dict[str, Any],
    from_execution: str | None,
    from_node: str | None,
) -> dict[str, Any]:
    """The recorded outputs of the nodes upstream of `from_node`, from `from_execution`
    (an id or a prefix) or else the workflow's latest execution."""
    source = from_execution
    if source is None:
        summaries = await store.list_executions(
            workflow_id=str(resolved["workflow"]["id"]), limit=1
        )
        if not summaries:
            return {}
        source = str(summaries[0]["id"])
    else:
        source = await store.resolve_id(source)
    await store.flush()  # wait for events still being written (a run just ended)
    outputs = await store.node_outputs(source)
    if from_node is None:
        return {}
    keep = upstream_nodes(resolved["workflow"], from_node)
    return {node: out for node, out in outputs.items() if node in keep}


def upstream_nodes(workflow: dict[str, Any], node_id: str) -> set[str]:
    """Every node `node_id` depends on: `needs`, sequential order, earlier stages."""
    edges: dict[str, set[str]] = {}
    earlier: set[str] = set()
    for stage in workflow.get("stages") or []:
        previous: str | None = None
        ids = [str(node["id"]) for node in stage.get("nodes") or []]
        for node in stage.get("nodes") or []:
            needs = node.get("needs") or []
            deps = {needs} if isinstance(needs, str) else {str(n) for n in needs}
            if stage.get("mode") == "sequential" and previous is not None:
                deps.add(previous)
            edges[str(node["id"])] = deps | earlier
            previous = str(node["id"])
        earlier |= set(ids)
    seen: set[str] = set()
    todo = list(edges.get(node_id, ()))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(edges.get(current, ()))
    return seen
