"""Change-aware re-runs (issue 17): `flowrun run --changed`, the LSP's `changed` run, the
CodeLens's "Re-run changed". Like a build system, the outputs of the nodes whose definition
did not change are reused and the rest runs.

The base is the last successful execution of the same file (a workflow test's is left out:
its outputs may be mocked). A node is *changed* when its definition hash
(`flowrun.spec.node_hash`) differs from the one recorded there, or it has none (a new node).
A node that was pinned or mocked there has no output of its own to reuse.
A hash covers the hashes of the nodes it uses, so everything downstream of an edit is
changed too. What runs: the changed nodes, the nodes with no output of their own in the base
(failed, skipped by a `when` evaluated again, pinned), every node that uses one of those, and
all the nodes of a loop stage where one runs. The rest is given its recorded output
(`options.given_outputs`, the "Run from here" mechanism).

The run takes the base's inputs and trigger, the caller's inputs over them key by key and its
trigger instead (`rerun.request_from`); when the resolved ones differ from the base's, nothing
is reused (the outputs answered another request) and the note says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowrun.history.interface import HistoryBackend
from flowrun.runs.rerun import Parent
from flowrun.spec.node_hash import node_uses
from flowrun.status import ExecutionStatus

SEARCHED = 20  # the newest successful executions looked at for one not of a workflow test


@dataclass(frozen=True)
class Base:
    """The execution a changed run reuses outputs from."""

    execution_id: str
    inputs: dict[str, Any] | None
    trigger: dict[str, Any] | None
    hashes: dict[str, str]  # every node it recorded
    outputs: dict[str, Any]  # of the nodes that succeeded


@dataclass
class ChangedRun:
    """A `--changed` run: its base (None: a full run) and, after `apply`, what it reuses and
    what runs, with why."""

    base: Base | None
    reused: list[str] = field(default_factory=list)
    run: dict[str, str] = field(default_factory=dict)  # node → why it runs
    note: str | None = None  # why nothing is reused

    async def start(self, resolved: dict[str, Any], path: Path, store: HistoryBackend) -> Parent:
        """A `StartPoint`: the unchanged nodes given; the base the parent, when it gave any."""
        self.apply(resolved, path)
        return self.parent, None

    def apply(self, resolved: dict[str, Any], file: Path) -> None:
        """Give the unchanged nodes their recorded outputs in the resolved workflow."""
        workflow = resolved["workflow"]
        base = self.base
        if base is None:
            self.note = f"no successful execution of {file.name} yet: a full run"
            return
        if (resolved.get("inputs"), resolved.get("trigger")) != (base.inputs, base.trigger):
            self.note = (
                f"the inputs or trigger differ from those of {base.execution_id[:8]}: a full run"
            )
            return
        self.run = to_run(workflow, base)
        nodes, _ = node_uses(workflow)
        self.reused = [node_id for node_id in nodes if node_id not in self.run]
        options = resolved.setdefault("options", {})
        options["given_outputs"] = {n: base.outputs[n] for n in self.reused}

    @property
    def parent(self) -> str | None:
        """The execution its given outputs come from."""
        return self.base.execution_id if self.base is not None and self.reused else None

    def report(self) -> str:
        """One line for the user: where from, what is reused, what runs and why."""
        if self.note is not None or self.base is None:
            return str(self.note)
        running = ", ".join(f"{node} ({why})" for node, why in self.run.items()) or "nothing"
        reused = ", ".join(self.reused) or "nothing"
        return (
            f"from {self.base.execution_id[:8]}: reused {len(self.reused)} ({reused}); "
            f"running {len(self.run)}: {running}"
        )


def changed_nodes(now: dict[str, str], recorded: dict[str, str]) -> list[str]:
    """The nodes whose definition hash differs from the recorded one (or that have none)."""
    return [node_id for node_id, digest in now.items() if recorded.get(node_id) != digest]


def to_run(workflow: dict[str, Any], base: Base) -> dict[str, str]:
    """The nodes that run, in the file's order, each with why."""
    nodes, uses = node_uses(workflow)
    now = {node_id: str(node.get("hash")) for node_id, node in nodes.items()}
    changed = set(changed_nodes(now, base.hashes))
    why: dict[str, str] = {}
    for node_id in nodes:
        if node_id in changed:
            upstream = sorted(uses[node_id] & changed)
            why[node_id] = f"uses {upstream[0]}" if upstream else _own_change(node_id, base)
        elif node_id not in base.outputs:
            why[node_id] = f"no output of its own in {base.execution_id[:8]}"
    grown = True
    while grown:  # everything downstream of a node that runs runs too
        grown = False
        for node_id in nodes:
            upstream = sorted(uses[node_id] & why.keys())
            if node_id not in why and upstream:
                why[node_id], grown = f"uses {upstream[0]}", True
    for stage in workflow.get("stages") or []:
        ids = [str(node["id"]) for node in stage.get("nodes") or []]
        if stage.get("loop") and why.keys() & set(ids):
            for node_id in ids:
                why.setdefault(node_id, f"in the loop stage {stage.get('id')}")
    return {node_id: why[node_id] for node_id in nodes if node_id in why}


def _own_change(node_id: str, base: Base) -> str:
    return "its definition changed" if node_id in base.hashes else "new"


async def last_success_id(store: HistoryBackend, file: Path) -> str | None:
    """The id of the last successful execution of `file` that is not a workflow test's."""
    summaries = await store.list_executions(
        file=str(file.resolve()), status=ExecutionStatus.SUCCEEDED, limit=SEARCHED
    )
    return next((str(s["id"]) for s in summaries if not s.get("testName")), None)


async def last_success(store: HistoryBackend, file: Path) -> Base | None:
    """The base of a changed run of `file`: its last success, None when there is none."""
    execution_id = await last_success_id(store, file)
    if execution_id is None:
        return None
    tree = await store.execution_tree(execution_id)
    inputs, trigger = tree.get("inputs"), tree.get("trigger")
    outputs = await store.node_outputs(execution_id)
    return Base(
        execution_id=execution_id,
        inputs=inputs if isinstance(inputs, dict) else None,
        trigger=trigger if isinstance(trigger, dict) else None,
        hashes=await store.node_hashes(execution_id),
        outputs={n: out for n, out in outputs.items() if n not in _not_run(tree["children"])},
    )


def _not_run(children: list[Any]) -> set[str]:
    """The nodes of a tree that finished with a pinned or mocked output: not theirs to reuse
    (a pin file removed since must not live on through a changed run)."""
    found: set[str] = set()
    for child in children:
        if child["kind"] == "stage":
            found |= _not_run(child["children"])
        elif child.get("pinned") or child.get("mocked"):
            found.add(str(child["id"]))
    return found
