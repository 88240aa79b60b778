"""Quick fixes from the diagnostics' `data.fix` (set by `convert.fix_data` and `python_env`).

Text edits become a `WorkspaceEdit`; a fix with a command (install missing dependencies)
becomes a command with the document's uri as argument. `stale-pin` (lsp/pins.py) gets its two
commands, Unpin and Re-pin from last run.
"""

from __future__ import annotations

from lsprotocol import types
from pydantic import ValidationError

from flowrun.lsp import protocol as p
from flowrun.lsp.protocol import to_plain
from flowrun.lsp.server import FlowrunServer
from flowrun.validate.codes import STALE_PIN


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
            actions += pin_actions(uri, diagnostic)
        return actions


def pin_actions(uri: str, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    """`stale-pin` (lsp/pins.py): Unpin, Re-pin from last run."""
    data = to_plain(diagnostic.data)
    pin = data.get("pin") if diagnostic.code == STALE_PIN and isinstance(data, dict) else None
    if not isinstance(pin, dict) or not isinstance(pin.get("nodeId"), str):
        return []
    argument = {"uri": uri, "nodeId": pin["nodeId"]}
    return [
        types.CodeAction(
            title=title,
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            command=types.Command(title=title, command=command, arguments=[argument]),
        )
        for title, command in (("Unpin", p.CMD_UNPIN), ("Re-pin from last run", p.CMD_REPIN))
    ]


def to_action(uri: str, diagnostic: types.Diagnostic) -> types.CodeAction | None:
    try:
        fix = p.DiagnosticData.model_validate(to_plain(diagnostic.data) or {}).fix
    except ValidationError:  # the client sent back data that is not ours
        return None
    if fix is None or not (fix.edits or fix.command):
        return None
    action = types.CodeAction(
        title=fix.title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=bool(fix.edits),
    )
    if fix.edits:
        action.edit = types.WorkspaceEdit(changes={uri: [_edit(edit) for edit in fix.edits]})
    if fix.command:
        action.command = types.Command(
            title=fix.title, command=fix.command, arguments=[{"uri": uri}]
        )
    return action


def _edit(edit: p.FixEdit) -> types.TextEdit:
    start, end = edit.range.start, edit.range.end
    return types.TextEdit(
        range=types.Range(
            start=types.Position(line=start.line, character=start.character),
            end=types.Position(line=end.line, character=end.character),
        ),
        new_text=edit.new_text,
    )
