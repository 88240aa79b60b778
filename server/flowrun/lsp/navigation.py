"""Go to definition and find references for node ids.

A node id is referenced by `needs` items and by `nodes.<id>` in expressions; its definition is
the `id:` value of the node.
"""

from __future__ import annotations

from lsprotocol import types

from flowrun.lsp.outline import Outline, contains
from flowrun.lsp.server import FlowrunServer


def node_id_at(outline: Outline, position: types.Position) -> str | None:
    for node in outline.nodes:
        if contains(node.id_range, position):
            return node.id
        for name, rng in node.needs:
            if contains(rng, position):
                return name
    for ref in outline.refs:
        if contains(ref.id_range, position):
            return ref.node_id
    return None


def reference_ranges(outline: Outline, node_id: str) -> list[types.Range]:
    ranges = [rng for node in outline.nodes for name, rng in node.needs if name == node_id]
    ranges += [ref.id_range for ref in outline.refs if ref.node_id == node_id]
    return sorted(ranges, key=lambda r: (r.start.line, r.start.character))


def setup(server: FlowrunServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(params: types.DefinitionParams) -> list[types.Location]:
        uri = params.text_document.uri
        server.check_position(uri, params.position)
        outline = await server.outline(uri)
        node_id = node_id_at(outline, params.position) if outline else None
        node = outline.node(node_id) if outline and node_id else None
        return [types.Location(uri=uri, range=node.id_range)] if node else []

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(params: types.ReferenceParams) -> list[types.Location]:
        uri = params.text_document.uri
        server.check_position(uri, params.position)
        outline = await server.outline(uri)
        node_id = node_id_at(outline, params.position) if outline else None
        if outline is None or node_id is None:
            return []
        ranges = reference_ranges(outline, node_id)
        node = outline.node(node_id)
        if params.context.include_declaration and node is not None:
            ranges.insert(0, node.id_range)
        return [types.Location(uri=uri, range=rng) for rng in ranges]
