"""Flowrun's own `Diagnostic` (validate/) → LSP `Diagnostic`, with the quick fix in `data`.

Any rule's `Fix` travels the same way (`data.fix`), so `code_actions` offers every quick fix
the validator makes without knowing the rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from flowrun.lsp import protocol as p
from flowrun.lsp.outline import to_lsp_range
from flowrun.lsp.uris import path_to_uri
from flowrun.validate import Diagnostic, Fix

SOURCE = "flowrun"

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def wire_range(rng: types.Range) -> p.WireRange:
    return p.WireRange(
        start=p.WirePosition(line=rng.start.line, character=rng.start.character),
        end=p.WirePosition(line=rng.end.line, character=rng.end.character),
    )


def to_lsp(diagnostic: Diagnostic, uri: str) -> types.Diagnostic:
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=path_to_uri_or(item.file, uri), range=to_lsp_range(item.range)
            ),
            message=item.message,
        )
        for item in diagnostic.related
    ]
    return types.Diagnostic(
        range=to_lsp_range(diagnostic.range),
        severity=_SEVERITY.get(str(diagnostic.severity), types.DiagnosticSeverity.Error),
        code=diagnostic.code,
        source=SOURCE,
        message=diagnostic.message,
        related_information=related or None,
        data=fix_data(diagnostic.fix),
    )


def fix_data(fix: Fix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    edits = [
        p.FixEdit(range=wire_range(to_lsp_range(rng)), new_text=text) for rng, text in fix.edits
    ]
    return p.DiagnosticData(fix=p.Fix(title=fix.title, edits=edits, command=fix.command)).wire()


def path_to_uri_or(file: str | None, uri: str) -> str:
    if not file:
        return uri
    if "://" in file:
        return file
    return path_to_uri(Path(file))
