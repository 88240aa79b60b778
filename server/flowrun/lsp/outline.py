"""Where things are in a workflow file: nodes, stages, needs, inputs, secrets, expressions.

Built from the loader's source map of the one parse the validator made (in the validation
worker), so symbols, definition, references, hover, CodeLens and diagnostics all see the same
positions. References come from the expression parser. Text the loader could not read gives
an outline with `parsed=False`; the server then keeps the last good one (see `DocumentState`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from flowrun.spec.loader import JsonPath, SourceMap, Span, iter_raw_nodes
from flowrun.spec.positions import Range
from flowrun_engine.expr import ExprSyntaxError, find_expressions, parse, references

# The trigger sample travels in a CodeLens argument: a bigger one is left out, not sent.
MAX_SAMPLE_CHARS = 64_000


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
class ExpressionNodeRef:
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
    trigger_sample: dict[str, Any] | None = None
    parsed: bool = False
    refs: tuple[ExpressionNodeRef, ...] = field(default=())
    # each node's definition hash (`spec.resolve.node_hashes`); empty while the file has errors
    hashes: tuple[tuple[str, str], ...] = ()

    def node(self, node_id: str) -> NodeInfo | None:
        return next((node for node in self.nodes if node.id == node_id), None)


def workflow_stem(path: str | Path) -> str:
    name = Path(path).name
    for suffix in (".workflow.yml", ".workflow.yaml", ".yml", ".yaml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def build_outline(source: SourceMap | None, path: str | Path) -> Outline:
    """The outline of the data `source` was loaded into; unparsed when there is none."""
    data = source.data if source is not None else None
    if source is None or not isinstance(data, dict):
        return Outline(workflow_id=workflow_stem(path))
    positions = _Positions(source)
    stage_ids = _stage_ids(data)
    trigger: dict[str, Any] = data["trigger"] if isinstance(data.get("trigger"), dict) else {}
    anchor = source.keys.get(("nodes",)) or source.keys.get(("stages",))
    nodes = tuple(_nodes(data, positions, stage_ids))
    workflow_id, stem = data.get("id"), workflow_stem(path)
    return Outline(
        workflow_id=workflow_id if isinstance(workflow_id, str) and workflow_id else stem,
        anchor_line=positions.range(anchor).start.line if anchor else 0,
        nodes=nodes,
        stages=tuple(_stages(data, positions, stage_ids, nodes)),
        inputs=tuple(data["inputs"]) if isinstance(data.get("inputs"), dict) else (),
        secrets=tuple(name for name, _ in _texts(data, positions, "secrets")),
        requires=tuple(_texts(data, positions, "requires")),
        http_trigger=trigger.get("type") == "http",
        trigger_sample=_sample(trigger.get("sample")),
        parsed=True,
        refs=tuple(_refs(source, positions)),
    )


def contains(rng: types.Range, pos: types.Position) -> bool:
    start, end = rng.start, rng.end
    after_start = (pos.line, pos.character) >= (start.line, start.character)
    return after_start and (pos.line, pos.character) <= (end.line, end.character)


class _Positions:
    def __init__(self, source: SourceMap) -> None:
        self.source = source

    def range(self, span: Span) -> types.Range:
        return to_lsp_range(self.source.range(span))

    def value(self, path: JsonPath) -> types.Range | None:
        span = self.source.values.get(path)
        return None if span is None else self.range(span)


def to_lsp_range(rng: Range) -> types.Range:
    return types.Range(
        start=types.Position(line=rng.start.line, character=rng.start.character),
        end=types.Position(line=rng.end.line, character=rng.end.character),
    )


def _stage_ids(data: dict[str, Any]) -> dict[int, str]:
    stages = data.get("stages")
    if not isinstance(stages, list):
        return {}
    return {
        i: stage["id"]
        for i, stage in enumerate(stages)
        if isinstance(stage, dict) and isinstance(stage.get("id"), str) and stage["id"]
    }


def _nodes(data: dict[str, Any], at: _Positions, stage_ids: dict[int, str]) -> Iterator[NodeInfo]:
    for path, raw in iter_raw_nodes(data):
        stage = stage_ids.get(int(path[1])) if path[0] == "stages" else None
        node_id, id_range, whole = raw.get("id"), at.value((*path, "id")), at.value(path)
        if path[0] == "stages" and stage is None:
            continue  # a stage without an id is not shown, nor are its nodes
        if not isinstance(node_id, str) or not node_id or id_range is None or whole is None:
            continue
        node_type = raw.get("type")
        params = raw.get("with")
        yield NodeInfo(
            id=node_id,
            type=node_type if isinstance(node_type, str) and node_type else None,
            id_range=id_range,
            range=whole,
            type_range=at.value((*path, "type")),
            needs=tuple(_texts(raw, at, "needs", path)),
            stage=stage,
            with_keys=tuple(params) if isinstance(params, dict) else (),
        )


def _stages(
    data: dict[str, Any], at: _Positions, stage_ids: dict[int, str], nodes: tuple[NodeInfo, ...]
) -> Iterator[StageInfo]:
    for index, stage_id in stage_ids.items():
        id_range, whole = at.value(("stages", index, "id")), at.value(("stages", index))
        if id_range is not None and whole is not None:
            members = tuple(node.id for node in nodes if node.stage == stage_id)
            yield StageInfo(id=stage_id, id_range=id_range, range=whole, nodes=members)


def _texts(
    owner: dict[str, Any], at: _Positions, key: str, base: JsonPath = ()
) -> Iterator[tuple[str, types.Range]]:
    """The text items of a list (or a single text) under `key`, with their ranges."""
    value = owner.get(key)
    items = [(None, value)] if isinstance(value, str) else list(enumerate(value or []))
    if not isinstance(value, str | list):
        return
    for index, item in items:
        where = at.value((*base, key) if index is None else (*base, key, index))
        if isinstance(item, str) and item and where is not None:
            yield item, where


def _refs(source: SourceMap, at: _Positions) -> Iterator[ExpressionNodeRef]:
    for path, value in source.strings:
        if "${{" not in value:
            continue
        start, end = source.values.get(path, (0, 0))
        written, cursor = source.text[start:end], 0
        for expression in find_expressions(value):
            if not expression.closed:
                continue
            try:
                found = references(parse(expression.text))
            except ExprSyntaxError:
                continue
            for ref in found:
                text = expression.text[ref.start : ref.end]
                offset = written.find(text, cursor)
                if ref.context != "nodes" or not ref.path or offset < 0:
                    continue
                cursor = offset + len(text)
                node_id = str(ref.path[0])
                id_start = start + offset + max(text.find(node_id, len("nodes")), 0)
                yield ExpressionNodeRef(
                    node_id=node_id,
                    path=ref.path[1:],
                    range=at.range((start + offset, start + cursor)),
                    id_range=at.range((id_start, id_start + len(node_id))),
                )


def _sample(sample: Any) -> dict[str, Any] | None:
    """The trigger sample as JSON, unless it is not a mapping or too big to send."""
    if not isinstance(sample, dict):
        return None
    budget = [MAX_SAMPLE_CHARS]
    if not _fits(sample, budget):
        return None
    loaded: dict[str, Any] = json.loads(json.dumps(sample, default=str))
    return loaded


def _fits(value: Any, budget: list[int]) -> bool:
    """Whether `value` written out stays within the budget; stops as soon as it does not,
    so a sample that aliases expand to millions of values is never written out."""
    budget[0] -= len(value) + 2 if isinstance(value, str) else 8
    if budget[0] < 0:
        return False
    if isinstance(value, dict):
        return all(_fits(str(k), budget) and _fits(v, budget) for k, v in value.items())
    if isinstance(value, list):
        return all(_fits(item, budget) for item in value)
    return True
