"""What a pin file is written from (issue 17): a node's recorded output in an execution —
the one the user names ("Pin output", `flowrun/pin`, `flowrun pin ID NODE`) or the newest
where the node really ran (Re-pin from last run) — shared by the editor and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.history.tree import node_elements
from flowrun.runs.changed import SEARCHED
from flowrun.runs.pins import write_pin

if TYPE_CHECKING:
    from flowrun.history.interface import HistoryBackend

NOT_REAL = ("pinned", "given", "mocked")  # a node that finished so did not run


@dataclass(frozen=True)
class PinSource:
    file: Path  # the workflow file
    workflow_id: str
    node_id: str
    execution_id: str
    node: dict[str, Any]  # the node of the execution tree (its `configHash`)

    async def write(self, store: HistoryBackend) -> Path:
        """Write the node's pin file from its recorded output; its path."""
        output = (await store.node_outputs(self.execution_id)).get(self.node_id)
        return write_pin(
            self.file,
            self.workflow_id,
            self.node_id,
            output=output,
            node_hash=self.node.get("configHash"),
            from_execution=self.execution_id,
        )


async def pin_source(store: HistoryBackend, execution_id: str, node_id: str) -> PinSource | None:
    """The node of that execution (a full id), None unless it succeeded there."""
    tree = await store.execution_tree(execution_id)
    node = find_node(tree["children"], node_id)
    if node is None or node["status"] != "succeeded":
        return None
    return PinSource(Path(tree["file"]), str(tree["workflowId"]), node_id, execution_id, node)


async def last_real_run(store: HistoryBackend, file: Path, node_id: str) -> PinSource | None:
    """The node in the newest execution of `file` (not a workflow test's) where it ran and
    succeeded."""
    for summary in await store.list_executions(file=str(file.resolve()), limit=SEARCHED):
        if summary.get("testName"):
            continue
        found = await pin_source(store, str(summary["id"]), node_id)
        if found and not any(found.node.get(k) for k in NOT_REAL):
            return found
    return None


def find_node(children: list[Any], node_id: str) -> dict[str, Any] | None:
    """The node `node_id` of a tree (its last iteration in a loop)."""
    found = [node for node in node_elements(children) if node["id"] == node_id]
    return found[-1] if found else None
