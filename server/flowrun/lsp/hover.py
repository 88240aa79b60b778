"""Hover: the docs of a node's type; for `nodes.<id>...` in an expression, its last-run value."""

from __future__ import annotations

import json
from typing import Any

from lsprotocol import types

from flowrun.lsp.outline import ExpressionNodeRef, Outline, contains
from flowrun.lsp.server import FlowrunServer
from flowrun.lsp.vocabulary import node_type_doc

MAX_VALUE_CHARS = 2000


def setup(server: FlowrunServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(params: types.HoverParams) -> types.Hover | None:
        server.check_position(params.text_document.uri, params.position)
        outline = await server.outline(params.text_document.uri)
        if outline is None:
            return None
        ref = next((r for r in outline.refs if contains(r.range, params.position)), None)
        if ref is not None:
            return await _value_hover(server, outline, ref)
        return _type_hover(outline, params.position)


def _type_hover(outline: Outline, position: types.Position) -> types.Hover | None:
    for node in outline.nodes:
        on_type = node.type_range is not None and contains(node.type_range, position)
        doc = node_type_doc(node.type) if node.type else None
        if (on_type or contains(node.id_range, position)) and doc is not None:
            text = f"**{node.type}** node `{node.id}`\n\n{doc}"
            return _markdown(text, node.type_range if on_type else node.id_range)
    return None


async def _value_hover(
    server: FlowrunServer, outline: Outline, ref: ExpressionNodeRef
) -> types.Hover:
    expression = "nodes." + ref.node_id + "".join(_segment(p) for p in ref.path)
    found = await last_output(server, outline.workflow_id, ref.node_id)
    if found is None:
        return _markdown(f"`{expression}`: no value yet; run the workflow to see it.", ref.range)
    execution_id, output = found
    if ref.path[:1] != ("output",):
        return _markdown(f"`{expression}`", ref.range)
    value = walk(output, ref.path[1:])
    rendered = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(rendered) > MAX_VALUE_CHARS:
        rendered = rendered[:MAX_VALUE_CHARS] + "\n… (cut)"
    text = f"`{expression}` in the last run (`{execution_id[:8]}`):\n```json\n{rendered}\n```"
    return _markdown(text, ref.range)


async def last_output(
    server: FlowrunServer, workflow_id: str, node_id: str
) -> tuple[str, Any] | None:
    """(execution id, output) of `node_id` in the newest execution that produced it."""
    if server.store is None:
        return None
    for summary in await server.store.list_executions(workflow_id=workflow_id, limit=5):
        outputs = await server.store.node_outputs(summary["id"])
        if node_id in outputs:
            return summary["id"], outputs[node_id]
    return None


def walk(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(value, dict):
            value = value.get(str(part))
        elif isinstance(value, list) and isinstance(part, int) and -len(value) <= part < len(value):
            value = value[part]
        else:
            return None
    return value


def _segment(part: str | int) -> str:
    return f"[{part}]" if isinstance(part, int) else f".{part}"


def _markdown(text: str, rng: types.Range | None) -> types.Hover:
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=rng
    )
