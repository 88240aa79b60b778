"""The plan: the resolved workflow turned into stages and nodes with their edges, before any run.

Two kinds of edges:

* `after`: ordering only, inside one stage. The explicit `needs` on nodes of the same stage,
  plus the implicit chain of a `sequential` stage. (The implicit edges to every node of the
  previous stage are the stage barrier: the scheduler runs stages one after the other.)
* `data`: the nodes whose result this node uses: its explicit `needs` (any stage) and every
  node its `with` reads as `nodes.<id>` (reading `nodes.<id>.status` does not count). A node
  is skipped when one of these did not succeed. Implicit edges never skip: a skipped
  optional node does not skip the next stage.

A *fixed* node does not run; it finishes with a known result (`PlanNode.fixed_result`):
given (run from here: `options.given_outputs`), mocked (a workflow test:
`options.mocks`, never in production) or pinned (`pin:`), in that order of precedence.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flowrun_engine import expr
from flowrun_engine.cache import CachePolicy


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 1
    backoff: float = 1.0
    factor: float = 2.0
    max_delay: float = 30.0

    def delay(self, failed_attempt: int) -> float:
        """Seconds to wait after attempt `failed_attempt` (1-based) failed."""
        return float(min(self.backoff * self.factor ** (failed_attempt - 1), self.max_delay))


@dataclass(frozen=True)
class LoopSpec:
    max_iters: int
    until: Any
    fallback: str | None


@dataclass(frozen=True)
class PlanNode:
    id: str
    type: str
    name: str | None
    stage: str | None
    stage_index: int
    after: frozenset[str]
    data: frozenset[str]
    when: Any
    params: Mapping[str, Any]
    timeout: float
    retry: RetryPolicy
    on_failure: str
    pinned: bool = False
    pin: Any = None
    given: bool = False
    given_output: Any = None
    # a workflow test's mock: one result per loop iteration (the last repeats), each
    # {"output": value} or {"error": {type, message}}
    mock: tuple[Mapping[str, Any], ...] | None = None
    code_line: int | None = None
    # `when` calls a status function or reads `nodes.<id>.status`: the node runs (its `when`
    # decides) even when a node it uses did not succeed or the run is failing
    self_deciding: bool = False
    cache: CachePolicy | None = None  # `cache:` (llm, http, python)
    hash: str | None = None  # its definition hash (`flowrun.spec.node_hash`), in its events

    @property
    def fixed(self) -> bool:
        """Given, mocked or pinned: finishes with a known result without running."""
        return self.given or self.mock is not None or self.pinned

    @property
    def fixed_flag(self) -> str:
        """The flag of its `node_finished`: `given`, `mocked` or `pinned`."""
        if self.given:
            return "given"
        return "mocked" if self.mock is not None else "pinned"

    def fixed_result(self, iteration: int | None) -> Mapping[str, Any]:
        """`{"output": value}` or `{"error": {...}}`: what a fixed node finishes with."""
        if self.given:
            return {"output": self.given_output}
        if self.mock is not None:
            index = min(max((iteration or 1) - 1, 0), len(self.mock) - 1)
            return self.mock[index]
        return {"output": self.pin}


@dataclass(frozen=True)
class PlanStage:
    id: str | None
    index: int
    mode: str
    loop: LoopSpec | None
    node_ids: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    stages: tuple[PlanStage, ...]
    nodes: Mapping[str, PlanNode]
    outputs: Mapping[str, Any]

    def stage_index(self, stage_id: str) -> int:
        return next(s.index for s in self.stages if s.id == stage_id)

    def to_event(self) -> dict[str, Any]:
        """The `plan` field of `execution_started`."""
        return {
            "stages": [
                {
                    "id": s.id,
                    "loop": s.loop is not None,
                    "nodes": [self._node_summary(n) for n in s.node_ids],
                }
                for s in self.stages
            ]
        }

    def _node_summary(self, node_id: str) -> dict[str, Any]:
        node = self.nodes[node_id]
        return {"id": node.id, "type": node.type, "name": node.name}


def build_plan(
    workflow: Mapping[str, Any],
    given_outputs: Mapping[str, Any] | None = None,
    mocks: Mapping[str, list[Mapping[str, Any]]] | None = None,
) -> Plan:
    given = given_outputs or {}
    mocked = {k: tuple(v) for k, v in (mocks or {}).items() if v}
    stages: list[PlanStage] = []
    nodes: dict[str, PlanNode] = {}
    for index, raw_stage in enumerate(workflow.get("stages") or []):
        stage = _stage(raw_stage, index)
        stages.append(stage)
        previous: str | None = None
        stage_ids = set(stage.node_ids)
        for raw in raw_stage.get("nodes") or []:
            node = _node(raw, stage, previous, stage_ids, given, mocked)
            nodes[node.id] = node
            previous = node.id
    return Plan(stages=tuple(stages), nodes=nodes, outputs=dict(workflow.get("outputs") or {}))


def _stage(raw: Mapping[str, Any], index: int) -> PlanStage:
    loop = raw.get("loop")
    return PlanStage(
        id=raw.get("id"),
        index=index,
        mode=raw.get("mode") or "parallel",
        loop=None
        if not loop
        else LoopSpec(
            max_iters=int(loop.get("max_iters") or 1),
            until=loop.get("until"),
            fallback=loop.get("fallback"),
        ),
        node_ids=tuple(n["id"] for n in raw.get("nodes") or []),
    )


def _node(
    raw: Mapping[str, Any],
    stage: PlanStage,
    previous: str | None,
    stage_ids: set[str],
    given: Mapping[str, Any],
    mocks: Mapping[str, tuple[Mapping[str, Any], ...]],
) -> PlanNode:
    needs = _as_list(raw.get("needs"))
    after = {n for n in needs if n in stage_ids}
    if stage.mode == "sequential" and previous is not None:
        after.add(previous)
    params = raw.get("with") or {}
    retry = raw.get("retry") or {}
    return PlanNode(
        id=raw["id"],
        type=raw["type"],
        name=raw.get("name"),
        stage=stage.id,
        stage_index=stage.index,
        after=frozenset(after),
        data=frozenset(needs) | referenced_nodes(params),
        when=raw.get("when"),
        params=params,
        timeout=float(raw.get("timeout") or 60.0),
        retry=RetryPolicy(
            attempts=max(1, int(retry.get("attempts") or 1)),
            backoff=float(retry.get("backoff", 1.0)),
            factor=float(retry.get("factor", 2.0)),
            max_delay=float(retry.get("max_delay", 30.0)),
        ),
        on_failure=raw.get("on_failure") or "stop",
        pinned=bool(raw.get("has_pin")),
        pin=raw.get("pin"),
        given=raw["id"] in given,
        given_output=given.get(raw["id"]),
        mock=mocks.get(raw["id"]),
        code_line=raw.get("code_line"),
        self_deciding=uses_status(raw.get("when")),
        cache=CachePolicy.of(raw.get("cache")),
        hash=raw.get("hash"),
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def referenced_nodes(value: Any) -> frozenset[str]:
    """Ids of the nodes that the expressions in `value` read as `nodes.<id>`."""
    found: set[str] = set()
    for text in _strings(value):
        for template in expr.find_expressions(text):
            try:
                refs = expr.references(expr.parse(template.text))
            except expr.ExprSyntaxError:
                continue
            found.update(str(r.path[0]) for r in refs if r.context == "nodes" and _reads_output(r))
    return frozenset(found)


def uses_status(when: Any) -> bool:
    """Whether a `when` calls success()/failure()/always()/cancelled() or reads a status."""
    if not isinstance(when, str):
        return False
    texts = [t.text for t in expr.find_expressions(when)] if "${{" in when else [when]
    for text in texts:
        try:
            tree = expr.parse(text)
        except expr.ExprSyntaxError:
            continue
        if any(expr.status_calls(tree)) or any(
            r.context == "nodes" and len(r.path) >= 2 and r.path[1] == "status"
            for r in expr.references(tree)
        ):
            return True
    return False


def _reads_output(ref: expr.Reference) -> bool:
    """`nodes.x.status` is not a use of x's result: reading it never skips."""
    return bool(ref.path) and (len(ref.path) < 2 or ref.path[1] != "status")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
