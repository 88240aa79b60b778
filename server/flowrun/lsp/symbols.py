"""Document symbols: stages (with their nodes) or the nodes of a workflow, for the outline view."""

from __future__ import annotations

from lsprotocol import types

from flowrun.lsp.outline import NodeInfo
from flowrun.lsp.server import FlowrunServer


def setup(server: FlowrunServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        outline = await server.outline(params.text_document.uri)
        if outline is None:
            return []
        if not outline.stages:
            return [_node_symbol(node) for node in outline.nodes]
        return [
            types.DocumentSymbol(
                name=stage.id,
                detail="stage",
                kind=types.SymbolKind.Namespace,
                range=stage.range,
                selection_range=stage.id_range,
                children=[_node_symbol(node) for node in outline.nodes if node.stage == stage.id],
            )
            for stage in outline.stages
        ]


def _node_symbol(node: NodeInfo) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=node.id,
        detail=node.type or "",
        kind=types.SymbolKind.Function,
        range=node.range,
        selection_range=node.id_range,
    )
