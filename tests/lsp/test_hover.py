"""Hover: node type docs; an expression's value in the last run."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp.harness import Session
from lsp.test_navigation import pos
from lsp.test_symbols import rng
from lsp.workflows import NODES, write

NAME = "a.workflow.yml"


async def hover(session: Session, at: types.Position) -> types.Hover | None:
    return await session.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri(NAME)), position=at
        )
    )


async def test_node_type_docs(workspace: Path, session: Session) -> None:
    assert session.result.capabilities.hover_provider
    write(workspace, NAME, NODES)
    found = await hover(session, pos(6, 11))
    assert found is not None
    assert found.range == rng(6, 10, 6, 15)
    assert isinstance(found.contents, types.MarkupContent)
    assert found.contents.kind == types.MarkupKind.Markdown
    assert found.contents.value.startswith("**shell** node `fetch`")
    assert "exit_code, stdout, stderr" in found.contents.value
    assert await hover(session, pos(0, 1)) is None


async def test_expression_without_a_run(workspace: Path, session: Session) -> None:
    write(workspace, NAME, NODES)
    found = await hover(session, pos(13, 30))
    assert found is not None
    assert found.range == rng(13, 17, 13, 42)
    assert isinstance(found.contents, types.MarkupContent)
    assert found.contents.value == (
        "`nodes.fetch.output.stdout`: no value yet; run the workflow to see it."
    )
