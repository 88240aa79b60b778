"""Completion: keys, node types, providers, node ids, inputs and secrets."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp.harness import Session
from lsp.test_navigation import pos
from lsp.workflows import NODES, write

NAME = "a.workflow.yml"


async def labels(session: Session, text: str, line: int, character: int) -> list[str]:
    """Open `text` as the editor's (unsaved) content and complete at the position."""
    uri = session.uri(NAME)
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=labels.version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    labels.version += 1
    result = await session.client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=pos(line, character)
        )
    )
    assert isinstance(result, types.CompletionList)
    return [item.label for item in result.items]


labels.version = 2  # type: ignore[attr-defined]


def edit(line: int, new: str) -> tuple[str, int, int]:
    lines = NODES.splitlines()
    lines[line] = new
    return "\n".join(lines) + "\n", line, len(new)


async def test_completion(workspace: Path, session: Session) -> None:
    caps = session.result.capabilities.completion_provider
    assert caps is not None
    assert set(caps.trigger_characters or []) >= {".", " "}
    write(workspace, NAME, NODES)
    session.open(NAME)

    assert await labels(session, *edit(10, "    type: ")) == [
        "shell", "python", "http", "llm", "agent", "transform",
    ]  # fmt: skip
    assert await labels(session, *edit(11, "    needs: [")) == ["fetch"]
    assert await labels(session, *edit(13, "      value: ${{ nodes.")) == ["fetch", "summarize"]
    assert await labels(session, *edit(13, "      value: ${{ nodes.fetch.")) == [
        "output",
        "status",
    ]
    assert await labels(session, *edit(13, "      value: ${{ inputs.")) == ["style"]
    assert await labels(session, *edit(13, "      value: ${{ secrets.")) == ["API_TOKEN"]
    contexts = await labels(session, *edit(13, "      value: ${{ "))
    assert contexts[:6] == ["inputs", "trigger", "nodes", "env", "secrets", "loop"]
    assert "default" in contexts


async def test_key_completion(workspace: Path, session: Session) -> None:
    write(workspace, NAME, NODES)
    session.open(NAME)
    node_keys = await labels(session, *edit(12, "    "))
    assert node_keys[:3] == ["id", "type", "name"]
    assert await labels(session, *edit(8, "      r")) == ["run", "cwd", "env", "stdin", "parse"]
    top = await labels(session, NODES + "o", 14, 1)
    assert top[:3] == ["version", "id", "name"]
    items = await labels(session, NODES + "  - ", 14, 4)
    assert items[:2] == ["id", "type"]


async def test_provider_and_choices(workspace: Path, session: Session) -> None:
    text = (
        "version: 1\nnodes:\n  - id: ask\n    type: llm\n    on_failure: \n"
        "    with:\n      provider: \n"
    )
    write(workspace, NAME, text)
    session.open(NAME)
    assert await labels(session, text, 6, 16) == [
        "openai", "groq", "anthropic", "ollama", "openai-compatible",
    ]  # fmt: skip
    assert await labels(session, text, 4, 16) == ["stop", "continue"]
