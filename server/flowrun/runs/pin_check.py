"""`stale-pin` in `flowrun validate` (issue 17): the editor's warning (`lsp.pins`) on each
node whose pin file holds another definition hash than the node's, from a file's validation
result. Like the editor, a file with errors has no hashes, so no such warning."""

from __future__ import annotations

from pathlib import Path

from flowrun.runs.pins import pins_folder, stale_message, stale_pins
from flowrun.spec.loader import iter_raw_nodes
from flowrun.validate import codes
from flowrun.validate.api import ValidationResult
from flowrun.validate.diagnostic import Diagnostic, Range, Severity
from flowrun.validate.workspace import workflow_id_of


def stale_pin_diagnostics(path: Path, result: ValidationResult) -> list[Diagnostic]:
    source, identity = result.source, workflow_id_of(path, result)
    if result.checked is None or result.has_errors or source is None or identity is None:
        return []
    workflow_id = identity[0]
    if not pins_folder(path, workflow_id).is_dir() or result.workflow is None:
        return []  # most files: no hashes to compute (nor models to build and load)
    from flowrun.spec.resolve import node_hashes

    stale = stale_pins(path, workflow_id, node_hashes(result.workflow))
    where: dict[str, Range] = {}
    for node_path, raw in iter_raw_nodes(source.data):
        span = source.values.get((*node_path, "id"))
        if span is not None and isinstance(raw.get("id"), str):
            where[raw["id"]] = source.range(span)
    return [
        Diagnostic(
            where[node], Severity.WARNING, codes.STALE_PIN, stale_message(node, workflow_id, pin)
        )
        for node, pin in stale.items()
        if node in where
    ]
