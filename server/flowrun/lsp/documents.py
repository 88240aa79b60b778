"""Open documents whose incremental edits cost what the edit costs, not what the file costs.

pygls applies each incremental change by splitting the whole text into lines and writing them
all out again: about 0.1 s of event loop per keystroke in a 5 MB file, during which no request
is answered. Here an edit is two slices around the changed range; a text with line breaks
other than `\\n` (`\\r\\n` included) is edited pygls' way, which treats them as it always did.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

CHUNK = 1 << 16
# what str.splitlines (and so pygls) also breaks lines at; `in` is far faster than a regex
_OTHER_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


class FastTextDocument(TextDocument):
    _simple: bool | None = None  # every line ends with `\n`: known once, kept up to date

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        source = self.source
        if self._simple is None:
            self._simple = _simple_breaks(source)
        self._simple = self._simple and _simple_breaks(change.text)
        if not self._simple:
            super()._apply_incremental_change(change)
            return
        first, last = change.range.start, change.range.end
        start_line = _line_start(source, first.line, 0, 0)
        end_line = _line_start(source, last.line - first.line, start_line or 0, 0)
        start = self._offset(source, start_line, first.character)
        end = max(start, self._offset(source, end_line, last.character))
        self._source = source[:start] + change.text + source[end:]

    def _offset(self, source: str, line_start: int | None, character: int) -> int:
        """The offset of a column of the line starting at `line_start` (clamped to the line)."""
        if line_start is None:
            return len(source)
        line_end = source.find("\n", line_start)
        line = source[line_start : len(source) if line_end < 0 else line_end]
        where = types.Position(line=0, character=character)
        column = self._position_codec.position_from_client_units([line], where).character
        return line_start + min(column, len(line))


def _simple_breaks(text: str) -> bool:
    """Whether every line break is `\n` (str.splitlines, and so pygls, knows others)."""
    return not any(char in text for char in _OTHER_BREAKS)


def _line_start(source: str, lines: int, pos: int, seen: int) -> int | None:
    """Where the line `lines` lines after `pos` starts: newlines are counted a chunk at a
    time (in C), then found one by one in the last chunk."""
    size = len(source)
    while seen < lines:
        end = min(pos + CHUNK, size)
        count = source.count("\n", pos, end)
        if seen + count >= lines:
            for _ in range(lines - seen):
                pos = source.find("\n", pos) + 1
            return pos
        if end == size:
            return None
        seen, pos = seen + count, end
    return pos


class FlowrunWorkspace(Workspace):
    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return FastTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self._position_codec,
        )


def faster_workspace(workspace: Workspace) -> FlowrunWorkspace:
    """The same workspace (pygls makes it in `initialize`), with `FastTextDocument`s."""
    return FlowrunWorkspace(
        workspace.root_uri,
        workspace._sync_kind,
        list(workspace.folders.values()),
        workspace.position_encoding,
    )
