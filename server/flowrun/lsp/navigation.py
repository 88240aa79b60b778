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


async def _id_under_cursor(
    server: FlowrunServer, uri: str, position: types.Position
) -> tuple[Outline, str] | None:
    """The document's outline and the node id at the position, if there is one."""
    server.check_position(uri, position)
    outline = await server.outline(uri)
    node_id = node_id_at(outline, position) if outline is not None else None
    return None if outline is None or node_id is None else (outline, node_id)


def setup(server: FlowrunServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(params: types.DefinitionParams) -> list[types.Location]:
        uri = params.text_document.uri
        found = await _id_under_cursor(server, uri, params.position)
        node = found[0].node(found[1]) if found else None
        return [types.Location(uri=uri, range=node.id_range)] if node else []

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(params: types.ReferenceParams) -> list[types.Location]:
        uri = params.text_document.uri
        found = await _id_under_cursor(server, uri, params.position)
        if found is None:
            return []
        outline, node_id = found
        ranges = reference_ranges(outline, node_id)
        node = outline.node(node_id)
        if params.context.include_declaration and node is not None:
            ranges.insert(0, node.id_range)
        return [types.Location(uri=uri, range=rng) for rng in ranges]
