"""YAML → plain data plus a source map from JSON paths to positions. Never raises.

`yaml.compose` keeps the marks of every node; this module walks the node tree itself, so
that it sees duplicate keys (compose keeps both), merge keys, aliases and tags, and records
where each key and value was written.

Scalars are typed with the YAML 1.2 core schema (`flowrun.spec.scalars`); a number JSON
cannot carry (`.inf`, `.nan`, `1e999`) is a problem.

Every reader of YAML in the server goes through `load_yaml` or `load_data`, so one alias
expansion limit (`MAX_EXPANDED`) protects all of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from flowrun.spec.positions import LineIndex, Range
from flowrun.spec.scalars import STR, TAG, scalar

JsonPath = tuple[str | int, ...]
Span = tuple[int, int]  # code-point offsets [start, end) in the text

MAX_DEPTH = 100
MAX_EXPANDED = 200_000  # values an alias-heavy document may expand to (beyond its own size)

_DEFAULT_TAGS = {ScalarNode: STR, SequenceNode: TAG + "seq", MappingNode: TAG + "map"}


class _Loader(CParser, BaseResolver):
    """libyaml without implicit typing: keys stay text, and values are typed in `scalar`
    with the YAML 1.2 core schema, which skips that work for every key."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        BaseResolver.__init__(self)

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        return _DEFAULT_TAGS[kind]


@dataclass(frozen=True)
class LoadProblem:
    code: str  # "yaml-syntax" | "duplicate-key" | "schema"
    message: str
    span: Span
    related: tuple[Span, str] | None = None


class SourceMap:
    """Where each key and value of the loaded data was written."""

    def __init__(self, text: str, index: LineIndex | None = None) -> None:
        self.text = text
        self.index = index or LineIndex(text)
        self.data: Any = None
        self.keys: dict[JsonPath, Span] = {}
        self.values: dict[JsonPath, Span] = {}
        self.strings: list[tuple[JsonPath, str]] = []  # every text value, in file order

    def range(self, span: Span) -> Range:
        return self.index.range(*span)

    def token_span(self, path: JsonPath) -> Span:
        """The value of `path` (its key when the value is empty), else the nearest ancestor's."""
        for depth in range(len(path), -1, -1):
            sub = path[:depth]
            value = self.values.get(sub)
            if value is not None and value[1] > value[0]:
                return value
            key = self.keys.get(sub)
            if key is not None:
                return key
        return self.first_line_span()

    def key_or_token_span(self, path: JsonPath) -> Span:
        return self.keys.get(path) or self.token_span(path)

    def first_line_span(self) -> Span:
        end = self.index.line_end(0)
        return (0, end if end > 0 else 0)


@dataclass
class LoadResult:
    data: Any
    source: SourceMap
    problems: list[LoadProblem] = field(default_factory=list)

    @property
    def fatal(self) -> bool:
        return any(p.code == "yaml-syntax" for p in self.problems)


def iter_raw_nodes(data: Any) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """Every node mapping of raw data, under `nodes` or `stages[*].nodes`, with its path."""
    if not isinstance(data, dict):
        return
    for stage_path, nodes in _node_lists(data):
        for i, node in enumerate(nodes):
            if isinstance(node, dict):
                yield (*stage_path, "nodes", i), node


def _node_lists(data: dict[str, Any]) -> Iterator[tuple[JsonPath, list[Any]]]:
    if isinstance(data.get("nodes"), list):
        yield (), data["nodes"]
    stages = data.get("stages")
    if isinstance(stages, list):
        for s, stage in enumerate(stages):
            if isinstance(stage, dict) and isinstance(stage.get("nodes"), list):
                yield ("stages", s), stage["nodes"]


def load_yaml(text: str) -> LoadResult:
    if text.startswith("\ufeff"):
        text = text[1:]
    source = SourceMap(text)
    result = LoadResult(None, source)
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        result.problems.append(_syntax_problem(text, exc))
        return result
    except yaml.reader.ReaderError as exc:
        result.problems.append(_reader_problem(text, exc))
        return result
    except (yaml.YAMLError, RecursionError, ValueError) as exc:  # pragma: no cover - defensive
        result.problems.append(LoadProblem("yaml-syntax", f"cannot read YAML: {exc}", (0, 0)))
        return result
    if root is None:
        return result
    builder = _Builder(source, result.problems)
    source.values[()] = _node_span(root, text)
    try:
        result.data = builder.build(root, (), 0)
    except _TooLarge:
        source.keys.clear()
        source.values.clear()
        source.strings.clear()
        result.problems.append(
            LoadProblem(
                "yaml-syntax",
                f"YAML aliases expand this file to more than {MAX_EXPANDED} values; "
                "write the repeated parts out or use fewer nested aliases",
                _node_span(root, text),
            )
        )
        return result
    source.data = result.data
    return result


def _compose(text: str) -> Node | None:
    loader = _Loader(text)
    try:
        root: Node | None = loader.get_single_node()
        return root
    finally:
        loader.dispose()


def _syntax_problem(text: str, exc: yaml.MarkedYAMLError) -> LoadProblem:
    mark = exc.problem_mark or exc.context_mark
    offset = mark.index if mark is not None else 0
    problem = exc.problem or "invalid YAML"
    message = problem
    if exc.context:
        message = f"{problem} ({exc.context})"
    if offset < len(text) and text[offset] == "\t":
        message = f"{message}: a tab cannot indent YAML; use spaces"
    elif "${{" in _line_at(text, offset):
        message += _EXPRESSION_HINT
    related = None
    context = exc.context_mark
    if exc.context and context is not None and context.index != offset:
        related = (_char_span(text, context.index), exc.context)
    return LoadProblem(
        "yaml-syntax", f"YAML syntax error: {message}", _char_span(text, offset), related
    )


_EXPRESSION_HINT = (
    "; the `${{ }}` on this line holds characters YAML reads as syntax (`: `, `{`, `}`, `#`):"
    ' quote the whole value (`"${{ … }}"`, with inner `"` written `\\"`), or write it'
    " on the next line after `>-`"
)


def _line_at(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start : end if end >= 0 else len(text)]


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> LoadProblem:
    character = exc.character
    shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
    message = f"the file contains a character YAML does not allow ({shown}); is it a binary file?"
    return LoadProblem("yaml-syntax", message, _char_span(text, int(exc.position)))


def _char_span(text: str, offset: int) -> Span:
    offset = max(0, min(offset, len(text)))
    if offset < len(text) and text[offset] not in "\r\n":
        return (offset, offset + 1)
    if offset == len(text) and offset > 0 and text[offset - 1] not in "\r\n":
        return (offset - 1, offset)
    return (offset, offset)


class _TooLarge(Exception):
    """Aliases expand the document beyond MAX_EXPANDED values (a "billion laughs")."""


class _Builder:
    def __init__(self, source: SourceMap, problems: list[LoadProblem]) -> None:
        self.source = source
        self.problems = problems
        self.active: set[int] = set()
        self.too_deep = False
        self.seen: set[int] = set()
        self.built = 0

    def _problem(self, code: str, message: str, node: Node) -> None:
        self.problems.append(LoadProblem(code, message, _node_span(node, self.source.text)))

    def build(self, node: Node, path: JsonPath, depth: int) -> Any:
        self.built += 1
        self.seen.add(id(node))
        if self.built - len(self.seen) > MAX_EXPANDED:
            raise _TooLarge
        if depth > MAX_DEPTH:
            if not self.too_deep:
                self.too_deep = True
                self._problem(
                    "yaml-syntax",
                    f"nesting deeper than {MAX_DEPTH} levels; flatten this value",
                    node,
                )
            return None
        if isinstance(node, ScalarNode):
            value = scalar(node)
            if isinstance(value, str):
                self.source.strings.append((path, value))
            elif isinstance(value, float) and not math.isfinite(value):
                self.problems.append(_not_finite(node, self.source.text))
                return node.value
            return value
        if id(node) in self.active:
            self._problem(
                "yaml-syntax",
                "a YAML alias refers to the value that contains it (recursive anchor)",
                node,
            )
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return self._sequence(node, path, depth)
            assert isinstance(node, MappingNode)
            return self._mapping(node, path, depth)
        finally:
            self.active.discard(id(node))

    def _sequence(self, node: SequenceNode, path: JsonPath, depth: int) -> list[Any]:
        items: list[Any] = []
        for i, child in enumerate(node.value):
            child_path = (*path, i)
            self.source.values[child_path] = _node_span(child, self.source.text)
            items.append(self.build(child, child_path, depth + 1))
        return items

    def _mapping(self, node: MappingNode, path: JsonPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.value == "<<" and _is_merge(key_node):
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem("schema", "a mapping key must be plain text", key_node)
                continue
            key = key_node.value
            key_span = (key_node.start_mark.index, key_node.end_mark.index)
            if key in result:
                first = self.source.keys[(*path, key)]
                self.problems.append(
                    LoadProblem(
                        "duplicate-key",
                        f"duplicate key `{key}`; the first one is used",
                        key_span,
                        (first, f"first `{key}` here"),
                    )
                )
                continue
            result[key] = self._entry(path, key, key_span, value_node, depth)
        for merged in merges:
            self._merge(result, merged, path, depth)
        return result

    def _entry(self, path: JsonPath, key: str, key_span: Span, value: Node, depth: int) -> Any:
        child_path = (*path, key)
        self.source.keys[child_path] = key_span
        self.source.values[child_path] = _node_span(value, self.source.text)
        return self.build(value, child_path, depth + 1)

    def _merge(self, result: dict[str, Any], merged: Node, path: JsonPath, depth: int) -> None:
        sources = merged.value if isinstance(merged, SequenceNode) else [merged]
        for source in sources:
            if not isinstance(source, MappingNode) or id(source) in self.active:
                self._problem(
                    "schema", "a merge key `<<` needs a mapping or a list of mappings", source
                )
                continue
            self.active.add(id(source))
            try:
                for key_node, value_node in source.value:
                    if not isinstance(key_node, ScalarNode) or _is_merge(key_node):
                        continue
                    if key_node.value not in result:
                        result[key_node.value] = self._entry(
                            path,
                            key_node.value,
                            _node_span(key_node, self.source.text),
                            value_node,
                            depth,
                        )
            finally:
                self.active.discard(id(source))


def _is_merge(key: Node) -> bool:
    return key.tag == TAG + "merge" or (
        isinstance(key, ScalarNode) and key.value == "<<" and not key.style and key.tag == STR
    )


def _node_span(node: Node, text: str) -> Span:
    """The node's marks, without the trailing blanks and line breaks libyaml includes
    after block scalars and collections."""
    start, end = node.start_mark.index, node.end_mark.index
    if isinstance(node, ScalarNode) and node.style not in ("|", ">"):
        return (start, end)
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return (start, end)


def _not_finite(node: ScalarNode, text: str) -> LoadProblem:
    message = (
        f"`{node.value}` is not a finite number, and JSON (the history, the editor, the "
        "engine) has no Infinity or NaN; write a finite number, or quote it to mean text"
    )
    return LoadProblem("schema", message, _node_span(node, text))


def load_data(text: str) -> Any:
    """The data of a YAML text read as workflow files are (YAML 1.2 core, the same alias
    limit); None when the text is not valid YAML or expands beyond MAX_EXPANDED values."""
    loaded = load_yaml(text)
    if loaded.fatal:
        return None
    return loaded.data
