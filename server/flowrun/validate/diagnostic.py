"""Flowrun's own diagnostic types: the validator never imports lsprotocol."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flowrun.spec.positions import Position, Range

__all__ = ["Diagnostic", "Fix", "Position", "Range", "Related", "Severity"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


@dataclass(frozen=True)
class Related:
    range: Range
    message: str
    file: str | None = None


@dataclass(frozen=True)
class Fix:
    """A quick fix; the LSP turns it into a CodeAction."""

    title: str
    edits: tuple[tuple[Range, str], ...] = ()
    command: str | None = None


@dataclass(frozen=True)
class Diagnostic:
    range: Range
    severity: Severity
    code: str
    message: str
    related: tuple[Related, ...] = ()
    fix: Fix | None = None

    def to_json(self, file: str) -> dict[str, object]:
        """The `--format json` shape of design §4 (0-based positions)."""
        start, end = self.range.start, self.range.end
        return {
            "file": file,
            "range": {
                "start": {"line": start.line, "character": start.character},
                "end": {"line": end.line, "character": end.character},
            },
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
        }
