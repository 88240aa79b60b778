"""Shared helpers of the validation tests: validate a text and compare compactly."""

from __future__ import annotations

import textwrap
from typing import Any

from flowrun.validate import Diagnostic, ValidationResult, validate_text

Brief = tuple[str, tuple[int, int, int, int]]


def check(text: str) -> ValidationResult:
    return validate_text(textwrap.dedent(text).lstrip("\n"), "test.workflow.yml")


def brief(d: Diagnostic) -> Brief:
    r = d.range
    return (d.code, (r.start.line, r.start.character, r.end.line, r.end.character))


def briefs(text: str, *codes: str) -> list[Brief]:
    """(code, (line, char, end line, end char)) of the diagnostics, only `codes` if given."""
    found = [brief(d) for d in check(text).diagnostics]
    return [b for b in found if not codes or b[0] in codes]


def only(text: str, code: str) -> Diagnostic:
    """The single diagnostic of `text` (which must have exactly one, of `code`)."""
    diagnostics = check(text).diagnostics
    assert [d.code for d in diagnostics] == [code], [(d.code, d.message) for d in diagnostics]
    return diagnostics[0]


def covered(text: str, d: Diagnostic) -> str:
    """The text a one-line diagnostic points at."""
    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    start, end = d.range.start, d.range.end
    assert start.line == end.line, d
    return lines[start.line][start.character : end.character]


def apply_fix(text: str, d: Diagnostic) -> str:
    """The text after applying the diagnostic's fix (single-line edits, ascii)."""
    assert d.fix is not None
    source = textwrap.dedent(text).lstrip("\n")
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(pos: Any) -> int:
        return offsets[pos.line] + pos.character

    for where, new_text in sorted(d.fix.edits, key=lambda e: offset(e[0].start), reverse=True):
        source = source[: offset(where.start)] + new_text + source[offset(where.end) :]
    return source


VALID = """
version: 1
name: ok
inputs:
  who: {type: string, default: world}
secrets: [API_KEY]
nodes:
  - id: first
    type: transform
    with:
      value: Hello ${{ inputs.who }}
  - id: second
    type: shell
    needs: [first]
    with:
      run: echo "$TEXT"
      env: {TEXT: "${{ nodes.first.output }}"}
outputs:
  text: ${{ nodes.second.output.stdout }}
"""
