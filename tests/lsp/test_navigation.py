"""Go to definition and references for `needs` items and `nodes.<id>` in expressions."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp.harness import Session
from lsp.test_symbols import rng
from lsp.workflows import NODES, write

NAME = "a.workflow.yml"


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


async def definition(session: Session, at: types.Position) -> list[types.Location]:
    result = await session.client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri(NAME)), position=at
        )
    )
    return list(result or [])


async def test_definition(workspace: Path, session: Session) -> None:
    assert session.result.capabilities.definition_provider
    write(workspace, NAME, NODES)
    fetch = types.Location(uri=session.uri(NAME), range=rng(5, 8, 5, 13))
    assert await definition(session, pos(11, 13)) == [fetch]  # needs: [fetch]
    assert await definition(session, pos(13, 25)) == [fetch]  # ${{ nodes.fetch... }}
    assert await definition(session, pos(0, 2)) == []


async def test_references(workspace: Path, session: Session) -> None:
    assert session.result.capabilities.references_provider
    write(workspace, NAME, NODES)
    uri = session.uri(NAME)
    result = await session.client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=pos(5, 9),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert list(result or []) == [
        types.Location(uri=uri, range=rng(5, 8, 5, 13)),
        types.Location(uri=uri, range=rng(11, 12, 11, 17)),
        types.Location(uri=uri, range=rng(13, 23, 13, 28)),
    ]
    nothing = await session.client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=pos(0, 0),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert list(nothing or []) == []
