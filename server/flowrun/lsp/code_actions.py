"""Quick fixes from the diagnostics' `data.fix` (set by `convert.fix_data` and `python_env`).

Text edits become a `WorkspaceEdit`; a fix with a command (install missing dependencies)
becomes a command with the document's uri as argument.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from flowrun.lsp.protocol import to_plain
from flowrun.lsp.server import FlowrunServer


def setup(server: FlowrunServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        actions = []
        for diagnostic in params.context.diagnostics:
            action = to_action(uri, diagnostic)
            if action is not None:
                actions.append(action)
        return actions


def to_action(uri: str, diagnostic: types.Diagnostic) -> types.CodeAction | None:
    data = to_plain(diagnostic.data)
    fix: Any = data.get("fix") if isinstance(data, dict) else None
    if not isinstance(fix, dict) or not fix.get("title"):
        return None
    action = types.CodeAction(
        title=str(fix["title"]),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=bool(fix.get("edits")),
    )
    edits = [_edit(item) for item in fix.get("edits") or []]
    if edits:
        action.edit = types.WorkspaceEdit(changes={uri: edits})
    if fix.get("command"):
        action.command = types.Command(
            title=str(fix["title"]), command=str(fix["command"]), arguments=[{"uri": uri}]
        )
    return action if edits or action.command else None


def _edit(item: dict[str, Any]) -> types.TextEdit:
    rng = item["range"]
    return types.TextEdit(
        range=types.Range(
            start=types.Position(line=rng["start"]["line"], character=rng["start"]["character"]),
            end=types.Position(line=rng["end"]["line"], character=rng["end"]["character"]),
        ),
        new_text=str(item["newText"]),
    )
