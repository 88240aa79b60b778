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


INJECTION = """\
version: 1
inputs:
  who: {type: string, default: world}
nodes:
  - id: greet
    type: shell
    with:
      run: echo "Hello ${{ inputs.who }}"
"""


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """The text after `edits` (ranges in the original text, applied from the last)."""
    lines = text.splitlines(keepends=True)

    def offset(at: types.Position) -> int:
        return sum(len(line) for line in lines[: at.line]) + at.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def test_a_new_rule_s_quick_fix_needs_no_code_in_the_server(
    workspace: Path, session: Session
) -> None:
    """`template-injection` (a validator rule) gets its quick fix through `data.fix` alone."""
    uri = session.open("inject.workflow.yml", INJECTION)
    [warning] = await session.wait_diagnostics("inject.workflow.yml", lambda d: d != [])
    assert warning.code == "template-injection"
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=warning.range,
            context=types.CodeActionContext(diagnostics=[warning]),
        )
    )
    [action] = [a for a in actions or [] if isinstance(a, types.CodeAction)]
    assert action.title.startswith("Move `${{ inputs.who }}` into `with.env`")
    assert action.edit is not None and action.edit.changes is not None
    mark = session.diagnostics.mark()
    session.replace("inject.workflow.yml", apply(INJECTION, list(action.edit.changes[uri])), 2)
    assert await session.wait_diagnostics("inject.workflow.yml", since=mark) == []
