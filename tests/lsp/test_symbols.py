"""textDocument/documentSymbol: nodes, or stages with their nodes."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp.harness import Session
from lsp.workflows import NODES, STAGES, write


def rng(a: int, b: int, c: int, d: int) -> types.Range:
    return types.Range(
        start=types.Position(line=a, character=b), end=types.Position(line=c, character=d)
    )


async def symbols(session: Session, name: str) -> list[types.DocumentSymbol]:
    result = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri(name))
        )
    )
    assert result is not None
    return [s for s in result if isinstance(s, types.DocumentSymbol)]


async def test_node_symbols(workspace: Path, session: Session) -> None:
    assert session.result.capabilities.document_symbol_provider
    write(workspace, "a.workflow.yml", NODES)
    found = await symbols(session, "a.workflow.yml")
    assert found == [
        types.DocumentSymbol(
            name="fetch",
            detail="shell",
            kind=types.SymbolKind.Function,
            range=rng(5, 4, 8, 18),
            selection_range=rng(5, 8, 5, 13),
        ),
        types.DocumentSymbol(
            name="summarize",
            detail="transform",
            kind=types.SymbolKind.Function,
            range=rng(9, 4, 13, 45),
            selection_range=rng(9, 8, 9, 17),
        ),
    ]


async def test_stage_symbols(workspace: Path, session: Session) -> None:
    write(workspace, "s.workflow.yml", STAGES)
    found = await symbols(session, "s.workflow.yml")
    assert [(s.name, s.kind, s.selection_range) for s in found] == [
        ("plan", types.SymbolKind.Namespace, rng(2, 8, 2, 12)),
        ("build", types.SymbolKind.Namespace, rng(8, 8, 8, 13)),
    ]
    assert [[c.name for c in s.children or []] for s in found] == [["think"], ["make"]]


async def test_not_yaml_gives_no_symbols(workspace: Path, session: Session) -> None:
    write(workspace, "bad.workflow.yml", "nodes: [\n  - id: x\n")
    assert await symbols(session, "bad.workflow.yml") == []
