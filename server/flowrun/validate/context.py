"""What every rule sees: the text, the loaded data, its source map and the node graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowrun.spec.loader import JsonPath, SourceMap, Span, iter_raw_nodes
from flowrun.validate.diagnostic import Diagnostic, Fix, Range, Related, Severity


@dataclass
class NodeRef:
    id: str
    path: JsonPath
    raw: dict[str, Any]
    stage: int | None  # index in `stages`, None for a flat `nodes:` workflow
    position: int  # index within its stage (or `nodes`)
    _needs: list[tuple[int | None, str]] | None = field(default=None, repr=False)

    def needs(self) -> list[tuple[int | None, str]]:
        """The `needs` items that are strings, with their index (None: a single string)."""
        if self._needs is None:
            value = self.raw.get("needs")
            if isinstance(value, str):
                self._needs = [(None, value)]
            elif isinstance(value, list):
                self._needs = [(i, item) for i, item in enumerate(value) if isinstance(item, str)]
            else:
                self._needs = []
        return self._needs

    def needs_path(self, index: int | None) -> JsonPath:
        return (*self.path, "needs") if index is None else (*self.path, "needs", index)


@dataclass(frozen=True)
class Located:
    span: Span
    exact: bool  # False: the whole scalar, because the piece was not found as written

    def sub(self, offset: int, length: int) -> Span:
        """A span inside the piece; the whole piece/scalar when not exact."""
        if not self.exact:
            return self.span
        start = min(self.span[0] + offset, self.span[1])
        return (start, min(start + max(length, 1), self.span[1]))


@dataclass
class StageRef:
    id: str | None
    path: JsonPath
    raw: dict[str, Any]
    index: int
    sequential: bool
    has_loop: bool


@dataclass
class RuleContext:
    text: str
    file: str
    source: SourceMap
    data: dict[str, Any]
    checked: dict[str, Any] | None = None  # what the models validated, when they did
    parsed: dict[str, Any] = field(default_factory=dict)  # expressions.parse_once
    diagnostics: list[Diagnostic] = field(default_factory=list)
    nodes: list[NodeRef] = field(default_factory=list)
    stages: dict[int, StageRef] = field(default_factory=dict)
    by_id: dict[str, NodeRef] = field(default_factory=dict)  # the first node of each id

    def __post_init__(self) -> None:
        stages = self.data.get("stages")
        if isinstance(stages, list):
            for i, stage in enumerate(stages):
                if isinstance(stage, dict):
                    self.stages[i] = _stage_ref(stage, i)
        for path, raw in iter_raw_nodes(self.data):
            node_id = raw.get("id")
            if not isinstance(node_id, str):
                continue
            stage = path[1] if path[0] == "stages" else None
            position = path[-1]
            assert isinstance(position, int)
            ref = NodeRef(node_id, path, raw, stage if isinstance(stage, int) else None, position)
            self.nodes.append(ref)
            self.by_id.setdefault(node_id, ref)

    # --- positions -------------------------------------------------------------------

    def range(self, span: Span) -> Range:
        return self.source.range(span)

    def token(self, path: JsonPath) -> Range:
        return self.range(self.source.token_span(path))

    def key(self, path: JsonPath) -> Range:
        return self.range(self.source.key_or_token_span(path))

    # --- reporting -------------------------------------------------------------------

    def report(
        self,
        code: str,
        message: str,
        where: Range | Span,
        *,
        severity: Severity = Severity.ERROR,
        related: tuple[Related, ...] = (),
        fix: Fix | None = None,
    ) -> None:
        if isinstance(where, tuple):  # a span: positions are computed only for problems
            where = self.range(where)
        self.diagnostics.append(Diagnostic(where, severity, code, message, related, fix))

    def replace_fix(self, title: str, where: Range, new_text: str) -> Fix:
        return Fix(title, ((where, new_text),))

    # --- walking ---------------------------------------------------------------------

    def stage_of(self, node: NodeRef) -> StageRef | None:
        return None if node.stage is None else self.stages.get(node.stage)

    def locate(self, path: JsonPath, value: str, pieces: list[tuple[int, int]]) -> list[Located]:
        """Source spans of substrings `value[a:b]` of the string at `path`, in order.

        The scalar's source text differs from its value for quoted, block and multi-line
        scalars; each piece is searched in the source text, after the previous one. A piece
        that cannot be found (an escape or a line fold inside it) gets the whole scalar.
        """
        whole = self.source.token_span(path)
        start, end = self.source.values.get(path, whole)
        written = self.text[start:end]
        if written == value:
            return [Located((start + a, start + b), True) for a, b in pieces]
        located: list[Located] = []
        cursor = 0
        for a, b in pieces:
            wanted = value[a:b].rstrip()
            found = written.find(wanted, cursor) if wanted else -1
            if found < 0:
                located.append(Located(whole, False))
                continue
            located.append(Located((start + found, start + found + len(wanted)), True))
            cursor = found + len(wanted)
        return located


def _stage_ref(raw: dict[str, Any], index: int) -> StageRef:
    stage_id = raw.get("id")
    mode = raw.get("mode", "sequential")
    return StageRef(
        stage_id if isinstance(stage_id, str) else None,
        ("stages", index),
        raw,
        index,
        mode != "parallel",
        isinstance(raw.get("loop"), dict),
    )
