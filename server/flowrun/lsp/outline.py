"""Where things are in a workflow file: nodes, stages, needs, inputs, secrets, expressions.

The LSP features need positions even while the file is half-typed and fails validation, so
this reads the YAML node tree (PyYAML `compose`, which keeps marks) instead of the validated
model. It never raises: text that is not YAML gives an empty outline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from lsprotocol import types

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: ~10x faster
_EXPRESSION = re.compile(r"\$\{\{(.*?)(?:\}\}|$)")
_NODE_REF = re.compile(
    r"\bnodes\.([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\['[^']*'\]|\[\"[^\"]*\"\])*)"
)
_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


@dataclass(frozen=True)
class NodeInfo:
    id: str
    type: str | None
    id_range: types.Range
    range: types.Range
    type_range: types.Range | None
    needs: tuple[tuple[str, types.Range], ...]
    stage: str | None
    with_keys: tuple[str, ...]


@dataclass(frozen=True)
class StageInfo:
    id: str
    id_range: types.Range
    range: types.Range
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class NodeRef:
    """`nodes.<id>...` inside an expression; `path` is what follows the id."""

    node_id: str
    path: tuple[str | int, ...]
    range: types.Range
    id_range: types.Range


@dataclass(frozen=True)
class Outline:
    workflow_id: str
    anchor_line: int = 0
    nodes: tuple[NodeInfo, ...] = ()
    stages: tuple[StageInfo, ...] = ()
    inputs: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    requires: tuple[tuple[str, types.Range], ...] = ()
    http_trigger: bool = False
    parsed: bool = False
    refs: tuple[NodeRef, ...] = field(default=())

    def node(self, node_id: str) -> NodeInfo | None:
        return next((node for node in self.nodes if node.id == node_id), None)

    def node_at(self, position: types.Position) -> NodeInfo | None:
        inside = [node for node in self.nodes if contains(node.range, position)]
        return inside[-1] if inside else None


def workflow_stem(path: str | Path) -> str:
    name = Path(path).name
    for suffix in (".workflow.yml", ".workflow.yaml", ".yml", ".yaml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def build_outline(text: str, path: str | Path) -> Outline:
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        return Outline(workflow_id=workflow_stem(path), refs=tuple(node_refs(text)))
    if not isinstance(root, yaml.MappingNode):
        return Outline(workflow_id=workflow_stem(path), refs=tuple(node_refs(text)))
    top = _entries(root)
    nodes, stages = _collect_nodes(top)
    anchor = top.get("nodes") or top.get("stages")
    id_value = _scalar(top["id"][1]) if "id" in top else None
    return Outline(
        workflow_id=id_value or workflow_stem(path),
        anchor_line=anchor[0].start_mark.line if anchor else 0,
        nodes=tuple(nodes),
        stages=tuple(stages),
        inputs=tuple(_keys(top["inputs"][1])) if "inputs" in top else (),
        secrets=tuple(name for name, _ in _items(top.get("secrets"))),
        requires=tuple(_items(top.get("requires"))),
        http_trigger=_scalar(_value(_entries(_value(top, "trigger")), "type")) == "http",
        parsed=True,
        refs=tuple(node_refs(text)),
    )


def node_refs(text: str) -> list[NodeRef]:
    refs = []
    for line_no, line in enumerate(text.splitlines()):
        for expression in _EXPRESSION.finditer(line):
            offset = expression.start(1)
            for match in _NODE_REF.finditer(expression.group(1)):
                start, id_end = offset + match.start(), offset + match.end(1)
                refs.append(
                    NodeRef(
                        node_id=match.group(1),
                        path=_path(match.group(2)),
                        range=_line_range(line_no, start, offset + match.end()),
                        id_range=_line_range(line_no, start + len("nodes."), id_end),
                    )
                )
    return refs


def contains(rng: types.Range, pos: types.Position) -> bool:
    start, end = rng.start, rng.end
    after_start = (pos.line, pos.character) >= (start.line, start.character)
    return after_start and (pos.line, pos.character) <= (end.line, end.character)


def to_range(node: yaml.Node) -> types.Range:
    start, end = node.start_mark, _end(node)
    return types.Range(
        start=types.Position(line=start.line, character=start.column),
        end=types.Position(line=end.line, character=end.column),
    )


def _end(node: yaml.Node) -> yaml.Mark:
    """Where a block collection's last value ends (PyYAML's mark is the next token's)."""
    if isinstance(node, yaml.MappingNode) and node.value and not node.flow_style:
        return _end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        return _end(node.value[-1])
    return node.end_mark


Entries = dict[str, tuple[yaml.Node, yaml.Node]]


def _entries(node: yaml.Node | None) -> Entries:
    if not isinstance(node, yaml.MappingNode):
        return {}
    found: Entries = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            found.setdefault(str(key.value), (key, value))
    return found


def _value(entries: Entries, key: str) -> yaml.Node | None:
    entry = entries.get(key)
    return entry[1] if entry else None


def _scalar(node: yaml.Node | None) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.value != "":
        return str(node.value)
    return None


def _keys(node: yaml.Node) -> list[str]:
    return list(_entries(node))


def _items(entry: tuple[yaml.Node, yaml.Node] | None) -> list[tuple[str, types.Range]]:
    """A list (or a single scalar) of strings, with their ranges."""
    if entry is None:
        return []
    value = entry[1]
    items = value.value if isinstance(value, yaml.SequenceNode) else [value]
    return [(str(item.value), to_range(item)) for item in items if _scalar(item) is not None]


def _collect_nodes(top: Entries) -> tuple[list[NodeInfo], list[StageInfo]]:
    nodes: list[NodeInfo] = []
    stages: list[StageInfo] = []
    if "nodes" in top:
        nodes.extend(_nodes_of(top["nodes"][1], None))
    for stage in _sequence(top.get("stages")):
        entries = _entries(stage)
        stage_id = _scalar(entries["id"][1]) if "id" in entries else None
        if stage_id is None:
            continue
        members = _nodes_of(entries["nodes"][1], stage_id) if "nodes" in entries else []
        nodes.extend(members)
        stages.append(
            StageInfo(
                id=stage_id,
                id_range=to_range(entries["id"][1]),
                range=to_range(stage),
                nodes=tuple(node.id for node in members),
            )
        )
    return nodes, stages


def _sequence(entry: tuple[yaml.Node, yaml.Node] | None) -> list[yaml.Node]:
    if entry is None or not isinstance(entry[1], yaml.SequenceNode):
        return []
    return list(entry[1].value)


def _nodes_of(value: yaml.Node, stage: str | None) -> list[NodeInfo]:
    if not isinstance(value, yaml.SequenceNode):
        return []
    found = []
    for item in value.value:
        entries = _entries(item)
        node_id = _scalar(entries["id"][1]) if "id" in entries else None
        if node_id is None:
            continue
        type_node = entries["type"][1] if "type" in entries else None
        found.append(
            NodeInfo(
                id=node_id,
                type=_scalar(type_node),
                id_range=to_range(entries["id"][1]),
                range=to_range(item),
                type_range=to_range(type_node) if type_node is not None else None,
                needs=tuple(_items(entries.get("needs"))),
                stage=stage,
                with_keys=tuple(_keys(entries["with"][1])) if "with" in entries else (),
            )
        )
    return found


def _path(text: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for match in _PATH_PART.finditer(text):
        attr, index, single, double = match.groups()
        if index is not None:
            parts.append(int(index))
        else:
            parts.append(attr or single or double or "")
    return tuple(parts)


def _line_range(line: int, start: int, end: int) -> types.Range:
    return types.Range(
        start=types.Position(line=line, character=start),
        end=types.Position(line=line, character=end),
    )
