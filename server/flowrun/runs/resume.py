"""Resuming a paused execution (issue 17): its checkpoint read back from the history, and the
new run's given outputs and report.

A paused execution is its own checkpoint: the node rows it recorded (outputs and definition
hashes of the completed nodes) and `error.pausedAt`. A resume is a new execution (its own id,
`parent_execution_id` = the paused one, `from_node` = `--from-node` or null) that runs the
file as it is now, with the inputs and trigger of the paused one, the nodes that succeeded
there given (`options.given_outputs`, the "Run from here" mechanism), the rest run. Nothing
else is needed: a resume works after the daemon, the editor or the machine restarted.

* `from_node`: that node and everything downstream of it run again, given or not.
* A loop stage the pause stopped in is run again from its first iteration.
* Edit and continue: the nodes that run use the file's current definitions; a given node
  whose definition hash differs from the recorded one is reported (`changed`), and its
  recorded output is still used (re-run it with `from_node`). A given node keeps its recorded
  hash, so a resume of a resume still compares with the definition that produced the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowrun.history.interface import HistoryBackend
from flowrun.history.tree import node_elements
from flowrun.runs.errors import NotResumable
from flowrun.runs.rerun import Parent, upstream_nodes
from flowrun.status import ExecutionStatus


@dataclass
class Resume:
    """A paused execution's checkpoint, and what its resume reported (`changed`)."""

    execution_id: str
    file: Path
    inputs: dict[str, Any] | None
    trigger: dict[str, Any] | None
    paused_at: list[str]
    outputs: dict[str, Any]  # of the nodes that succeeded
    hashes: dict[str, str]  # their recorded definition hashes
    from_node: str | None = None
    changed: list[str] = field(default_factory=list)  # filled by `start`

    async def start(self, resolved: dict[str, Any], path: Path, store: HistoryBackend) -> Parent:
        """A `StartPoint`: the checkpoint's outputs given; the paused execution the parent."""
        self.apply(resolved)
        return self.execution_id, self.from_node

    def apply(self, resolved: dict[str, Any]) -> None:
        """Give the completed nodes to the resolved workflow (their recorded hashes too) and
        note the given nodes whose definition changed since the pause."""
        workflow = resolved["workflow"]
        nodes = {str(n["id"]): n for s in workflow.get("stages") or [] for n in s["nodes"]}
        if self.from_node is not None and self.from_node not in nodes:
            known = ", ".join(nodes) or "none"
            raise NotResumable(f"No node `{self.from_node}` in {self.file} (nodes: {known}).")
        rerun = _rerun(workflow, self.from_node, self.paused_at)
        given = {n: out for n, out in self.outputs.items() if n in nodes and n not in rerun}
        options = resolved.setdefault("options", {})
        options["given_outputs"] = given
        if self.paused_at:
            options["resume_past"] = list(self.paused_at)  # Continue: not the same breakpoint
        self.changed = []
        for node_id in given:
            recorded = self.hashes.get(node_id)
            if recorded is None:
                continue
            if nodes[node_id].get("hash") != recorded:
                self.changed.append(node_id)
            nodes[node_id]["hash"] = recorded


async def checkpoint(
    store: HistoryBackend, execution_id: str, from_node: str | None = None
) -> Resume:
    """The checkpoint of the paused execution `execution_id` (an id or a prefix)."""
    tree = await store.execution_tree(await store.resolve_id(execution_id))
    if tree["status"] != ExecutionStatus.PAUSED:
        raise NotResumable(
            f"Execution {tree['id'][:8]} is {tree['status']}, not paused: only a paused "
            "execution resumes.",
            suggestion="Re-run it from a node instead: `flowrun run FILE --from-execution "
            f"{tree['id'][:8]} --from-node NODE`.",
        )
    error = tree.get("error")
    paused_at = error.get("pausedAt") if isinstance(error, dict) else None
    inputs, trigger = tree.get("inputs"), tree.get("trigger")
    hashes = {
        str(node["id"]): str(node["configHash"])
        for node in node_elements(tree["children"])
        if node["status"] == "succeeded" and node.get("configHash")
    }
    return Resume(
        execution_id=str(tree["id"]),
        file=Path(tree["file"]),
        inputs=inputs if isinstance(inputs, dict) else None,
        trigger=trigger if isinstance(trigger, dict) else None,
        paused_at=[str(n) for n in paused_at] if isinstance(paused_at, list) else [],
        outputs=await store.node_outputs(str(tree["id"])),
        hashes=hashes,
        from_node=from_node,
    )


def _rerun(workflow: dict[str, Any], from_node: str | None, paused_at: list[str]) -> set[str]:
    """The nodes that run again though they succeeded: `from_node` and its downstream, and
    the nodes of a loop stage the pause stopped in."""
    again: set[str] = set()
    if from_node is not None:
        again.add(from_node)
        for stage in workflow.get("stages") or []:
            for node in stage["nodes"]:
                if from_node in upstream_nodes(workflow, str(node["id"])):
                    again.add(str(node["id"]))
    for stage in workflow.get("stages") or []:
        ids = {str(n["id"]) for n in stage["nodes"]}
        if stage.get("loop") and ids & set(paused_at):
            again |= ids
    return again
