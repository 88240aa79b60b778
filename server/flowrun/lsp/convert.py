"""Flowrun's own `Diagnostic` (validate/) → LSP `Diagnostic`, with the quick fix in `data`."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from flowrun.lsp.server import path_to_uri

SOURCE = "flowrun"

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def lsp_range(rng: Any) -> types.Range:
    return types.Range(
        start=types.Position(line=rng.start.line, character=rng.start.character),
        end=types.Position(line=rng.end.line, character=rng.end.character),
    )


def range_json(rng: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def to_lsp(diagnostic: Any, uri: str) -> types.Diagnostic:
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=path_to_uri_or(item.file, uri), range=lsp_range(item.range)
            ),
            message=item.message,
        )
        for item in diagnostic.related
    ]
    return types.Diagnostic(
        range=lsp_range(diagnostic.range),
        severity=_SEVERITY.get(str(diagnostic.severity), types.DiagnosticSeverity.Error),
        code=diagnostic.code,
        source=SOURCE,
        message=diagnostic.message,
        related_information=related or None,
        data=fix_data(diagnostic.fix),
    )


def fix_data(fix: Any) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "fix": {
            "title": fix.title,
            "edits": [
                {"range": range_json(lsp_range(rng)), "newText": text} for rng, text in fix.edits
            ],
            "command": fix.command,
        }
    }


def path_to_uri_or(file: str | None, uri: str) -> str:
    if not file:
        return uri
    if "://" in file:
        return file
    from pathlib import Path

    return path_to_uri(Path(file))
