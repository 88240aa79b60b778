"""Source positions: code-point offsets in the text → LSP positions (0-based, UTF-16)."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Position:
    line: int  # 0-based
    character: int  # 0-based, in UTF-16 code units like LSP

    def __str__(self) -> str:
        return f"{self.line + 1}:{self.character + 1}"


@dataclass(frozen=True, order=True)
class Range:
    start: Position
    end: Position

    @classmethod
    def of(cls, line: int, character: int, end_line: int, end_character: int) -> Range:
        return cls(Position(line, character), Position(end_line, end_character))


# LSP line breaks; libyaml also breaks lines at U+0085/U+2028/U+2029, which is why positions
# are computed here from offsets rather than taken from the parser's line/column.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class LineIndex:
    """Maps code-point offsets of one text to LSP positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0]
        self._starts.extend(m.end() for m in _LINE_BREAK.finditer(text))
        self._bmp_only = text.isascii() or max(text) < "\U00010000"

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def position(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        column = offset - start
        if not self._bmp_only:
            column += sum(1 for ch in self.text[start:offset] if ch > "\uffff")
        return Position(line, column)

    def range(self, start: int, end: int) -> Range:
        return Range(self.position(start), self.position(end))

    def line_end(self, offset: int) -> int:
        """Offset of the end of the line containing `offset` (before its line break)."""
        line = bisect.bisect_right(self._starts, offset) - 1
        if line + 1 < len(self._starts):
            end = self._starts[line + 1]
            while end > self._starts[line] and self.text[end - 1] in "\r\n":
                end -= 1
            return end
        return len(self.text)

    def line_start(self, offset: int) -> int:
        return self._starts[bisect.bisect_right(self._starts, offset) - 1]
