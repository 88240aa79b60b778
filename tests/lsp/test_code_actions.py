"""Code actions: the validator's fixes as quick fixes."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp.harness import Session
from lsp.test_diagnostics import EXPECTED_BAD
from lsp.test_symbols import rng
from lsp.workflows import BAD, write


async def test_quick_fixes(workspace: Path, session: Session) -> None:
    provider = session.result.capabilities.code_action_provider
    assert isinstance(provider, types.CodeActionOptions)
    assert list(provider.code_action_kinds or []) == [types.CodeActionKind.QuickFix]
    write(workspace, "bad.workflow.yml", BAD)
    diagnostics = await session.wait_diagnostics("bad.workflow.yml")
    uri = session.uri("bad.workflow.yml")
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng(7, 0, 10, 0),
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    assert actions is not None
    found = [a for a in actions if isinstance(a, types.CodeAction)]
    assert [a.title for a in found] == [
        "Change to `transform`",
        "Change to `fetch`",
        "Add `fetch` to `needs` of `summarize`",
    ]
    assert all(a.kind == types.CodeActionKind.QuickFix for a in found)
    assert found[2].edit == types.WorkspaceEdit(
        changes={uri: (types.TextEdit(range=rng(8, 16, 8, 16), new_text=", fetch"),)}
    )
    assert list(found[0].diagnostics or []) == [EXPECTED_BAD[0]]


async def test_diagnostics_without_fix(workspace: Path, session: Session) -> None:
    uri = session.uri("x.workflow.yml")
    plain = types.Diagnostic(range=rng(0, 0, 0, 1), message="no fix here", data={"other": 1})
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng(0, 0, 0, 1),
            context=types.CodeActionContext(diagnostics=[plain]),
        )
    )
    assert list(actions or []) == []
