"""The Executions view's "changed" marker (issue 17): on each file's last successful execution,
the nodes whose definition hash differs from the file's as validated now (the same comparison
as the CodeLens's `↻ Re-run changed`, `runs.changed`).

The server owns it: `flowrun/history` gives that execution's summary `changedNodes` (node ids,
[] when none changed; absent on the other summaries and for files without hashes: not
validated, or with errors), and `flowrun/executionsChanged` goes out when an edit changes
that list, so the client asks again. A run that ends sends that notification anyway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowrun.lsp import protocol as p
from flowrun.lsp.server import DocumentState, FlowrunServer
from flowrun.lsp.services import services
from flowrun.lsp.uris import path_to_uri
from flowrun.runs.changed import changed_nodes, last_success_id
from flowrun.runs.errors import FlowrunError

CHANGED_NODES = "changedNodes"
Marks = tuple[str, tuple[str, ...]]  # (base execution id, changed node ids)


def setup(server: FlowrunServer) -> None:
    shown: dict[str, Marks | None] = {}  # by uri: what the client was told last

    def on_document(state: DocumentState) -> None:
        if state.outline.hashes:
            server.spawn(_tell_if_changed(server, state, shown), name=f"changed marks {state.uri}")

    server.document_listeners.append(on_document)


async def mark_changed(server: FlowrunServer, executions: list[dict[str, Any]]) -> None:
    """Give the summary of each listed file's last success its `changedNodes` (in place)."""
    by_id = {str(summary["id"]): summary for summary in executions}
    for file in {str(summary.get("file")) for summary in executions if summary.get("file")}:
        # a file not validated yet (just opened, or the workspace still being read) is now
        outline = await server.outline(path_to_uri(Path(file)), fresh=False)
        marks = await _marks(server, Path(file), outline.hashes) if outline else None
        if marks is not None and marks[0] in by_id:
            by_id[marks[0]][CHANGED_NODES] = list(marks[1])


async def _tell_if_changed(
    server: FlowrunServer, state: DocumentState, shown: dict[str, Marks | None]
) -> None:
    try:
        marks = await _marks(server, state.path, state.outline.hashes)
    except FlowrunError:  # a damaged history: flowrun/history says so when asked
        return
    if server.documents.get(state.uri) is not state:
        return  # validated again meanwhile: that validation's check tells (else `shown` goes stale)
    if shown.get(state.uri) != marks:
        first = state.uri not in shown
        shown[state.uri] = marks
        if not (first and (marks is None or not marks[1])):  # nothing to show yet
            server.notify(p.EXECUTIONS_CHANGED, {})


async def _marks(
    server: FlowrunServer, file: Path, hashes: tuple[tuple[str, str], ...]
) -> Marks | None:
    if not hashes:
        return None
    store = (await services(server)).store
    base = await last_success_id(store, file)
    if base is None:
        return None
    return base, tuple(changed_nodes(dict(hashes), await store.node_hashes(base)))
