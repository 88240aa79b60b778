"""Graph rules: duplicate ids, unknown `needs`, cycles, loop fallbacks; and the upstream test."""

from __future__ import annotations

from collections import deque

from flowrun.spec.loader import JsonPath
from flowrun.validate import codes
from flowrun.validate.context import NodeRef, RuleContext, StageRef
from flowrun.validate.diagnostic import Range, Related
from flowrun.validate.suggest import closest, did_you_mean


def check(ctx: RuleContext) -> None:
    _duplicate_node_ids(ctx)
    _duplicate_stage_ids(ctx)
    _unknown_needs(ctx)
    _order_conflicts(ctx)
    _cycles(ctx)
    for stage in ctx.stages.values():
        _fallback(ctx, stage)


def _duplicate_node_ids(ctx: RuleContext) -> None:
    for node in ctx.nodes:
        first = ctx.by_id[node.id]
        if first is not node:
            rule = "node ids must be unique in the file"
            _report_duplicate(ctx, "node", node.id, first.path, node.path, rule)


def _duplicate_stage_ids(ctx: RuleContext) -> None:
    seen: dict[str, StageRef] = {}
    for stage in ctx.stages.values():
        if stage.id is None:
            continue
        first = seen.setdefault(stage.id, stage)
        if first is not stage:
            rule = "stage ids must be unique"
            _report_duplicate(ctx, "stage", stage.id, first.path, stage.path, rule)


def _report_duplicate(
    ctx: RuleContext, kind: str, id_: str, first: JsonPath, again: JsonPath, rule: str
) -> None:
    related = Related(ctx.token((*first, "id")), f"first {kind} `{id_}` here")
    message = f"{kind} id `{id_}` is used twice; {rule}"
    ctx.report(codes.DUPLICATE_ID, message, ctx.token((*again, "id")), related=(related,))


def _unknown_needs(ctx: RuleContext) -> None:
    ids = list(ctx.by_id)
    for node in ctx.nodes:
        for index, name in node.needs():
            if name in ctx.by_id:
                continue
            others = [i for i in ids if i != node.id]
            suggestion = closest(name, others)
            where = ctx.token(node.needs_path(index))
            message = f"node `{node.id}` needs `{name}`, but there is no node `{name}`"
            message += did_you_mean(suggestion, others)
            fix = None
            if suggestion is not None:
                fix = ctx.replace_fix(f"Change to `{suggestion}`", where, suggestion)
            ctx.report(codes.UNKNOWN_NEEDS, message, where, fix=fix)


def _order_conflicts(ctx: RuleContext) -> None:
    """`needs` that point forward across the implicit stage order: cycles through it."""
    for node in ctx.nodes:
        if node.stage is None:
            continue
        for index, name in node.needs():
            target = ctx.by_id.get(name)
            if target is None or target.stage is None or target is node:
                continue
            stage = ctx.stages.get(node.stage)
            where = ctx.token(node.needs_path(index))
            if target.stage > node.stage:
                later = ctx.stages.get(target.stage)
                later_name = f"`{later.id}`" if later and later.id else f"{target.stage + 1}"
                message = (
                    f"cycle: {node.id} → {name} → {node.id}: `{name}` is in the later stage "
                    f"{later_name}, which runs after every node of this stage; move one of them"
                )
                ctx.report(codes.CYCLE, message, where)
            elif (
                target.stage == node.stage
                and stage
                and stage.sequential
                and target.position > node.position
            ):
                message = (
                    f"cycle: {node.id} → {name} → {node.id}: in a sequential stage each "
                    f"node needs the one before it; move `{name}` up or set `mode: parallel`"
                )
                ctx.report(codes.CYCLE, message, where)


def _cycles(ctx: RuleContext) -> None:
    edges: dict[str, list[tuple[int | None, str]]] = {}
    for node in ctx.nodes:
        if ctx.by_id[node.id] is node:
            edges[node.id] = [(i, n) for i, n in node.needs() if n in ctx.by_id]
    reported: set[frozenset[str]] = set()
    for cycle in _find_cycles(edges):
        key = frozenset(cycle)
        if key in reported:
            continue
        reported.add(key)
        _report_cycle(ctx, cycle)


def _find_cycles(edges: dict[str, list[tuple[int | None, str]]]) -> list[list[str]]:
    """One cycle per back edge of an iterative depth-first search, as a list of ids."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    cycles: list[list[str]] = []
    for root in edges:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        on_path: list[str] = [root]
        state[root] = 1
        while stack:
            current, i = stack[-1]
            needs = edges.get(current, [])
            if i >= len(needs):
                stack.pop()
                on_path.pop()
                state[current] = 2
                continue
            stack[-1] = (current, i + 1)
            target = needs[i][1]
            if state.get(target) == 1:
                cycles.append([*on_path[on_path.index(target) :], target])
            elif target not in state:
                state[target] = 1
                stack.append((target, 0))
                on_path.append(target)
    return cycles


CYCLE_SHOWN = 8  # ids of a cycle written out in its message; longer cycles are shortened
CYCLE_RELATED = 20  # other `needs` items of a cycle listed as related information


def _report_cycle(ctx: RuleContext, cycle: list[str]) -> None:
    """Once per cycle, on the `needs` item of the cycle's first node in the file; the message
    never grows with the cycle (a 5,000-node cycle is one short line)."""
    ring = cycle[:-1]
    order = {node.id: i for i, node in enumerate(ctx.nodes) if ctx.by_id[node.id] is node}
    start = min(range(len(ring)), key=lambda i: order.get(ring[i], 0))
    ring = [*ring[start:], *ring[:start]]
    edges = [(name, ring[(i + 1) % len(ring)]) for i, name in enumerate(ring)]
    spans = [_needs_range(ctx, name, target) for name, target in edges]
    if spans[0] is None:
        return
    first = ring[0]
    if len(ring) == 1:
        message = f"cycle: {first} → {first}: node `{first}` needs itself; remove it from `needs`"
    else:
        message = f"cycle: {_cycle_path([*ring, first])}; remove one of these `needs`"
    related = tuple(
        Related(where, f"`{name}` needs `{target}`")
        for (name, target), where in zip(edges[1:], spans[1:], strict=True)
        if where is not None
    )[:CYCLE_RELATED]
    ctx.report(codes.CYCLE, message, spans[0], related=related)


def _cycle_path(ids: list[str]) -> str:
    if len(ids) <= CYCLE_SHOWN + 1:
        return " → ".join(ids)
    head, tail = ids[: CYCLE_SHOWN // 2], ids[-(CYCLE_SHOWN // 2) :]
    hidden = len(ids) - len(head) - len(tail)
    return f"{' → '.join(head)} → … ({hidden:,} more) … → {' → '.join(tail)}"


def _needs_range(ctx: RuleContext, name: str, target: str) -> Range | None:
    node = ctx.by_id[name]
    for index, needed in node.needs():
        if needed == target:
            return ctx.token(node.needs_path(index))
    return None


def _fallback(ctx: RuleContext, stage: StageRef) -> None:
    loop = stage.raw.get("loop")
    if not isinstance(loop, dict) or not isinstance(loop.get("fallback"), str):
        return
    target = loop["fallback"]
    path = (*stage.path, "loop", "fallback")
    later = [s.id for s in ctx.stages.values() if s.index > stage.index and s.id]
    earlier = [s.id for s in ctx.stages.values() if s.index <= stage.index and s.id]
    if target in later:
        return
    name = f"stage `{stage.id}`" if stage.id else f"stage {stage.index + 1}"
    if target in earlier:
        message = f"the loop fallback of {name} must be a later stage; `{target}` is not after it"
    else:
        suggestion = closest(target, later)
        message = f"the loop fallback of {name} names no later stage `{target}`"
        message += did_you_mean(suggestion, later)
    ctx.report(codes.LOOP_BOUNDS, message, ctx.token(path))


class Upstream:
    """Answers "does `node` (transitively) need `target`?", with the implicit stage edges."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._ancestors: dict[int, set[str]] = {}

    def is_upstream(self, node: NodeRef, target: NodeRef) -> bool:
        if target is node:
            return False
        if node.stage is not None and target.stage is not None:
            if target.stage != node.stage:
                return target.stage < node.stage
            stage = self.ctx.stages.get(node.stage)
            if stage is not None and stage.sequential and target.position < node.position:
                return True
        elif (node.stage is None) != (target.stage is None):
            return False
        if any(name == target.id for _, name in node.needs()):
            return True
        return target.id in self._explicit_ancestors(node)

    def _explicit_ancestors(self, node: NodeRef) -> set[str]:
        key = id(node)
        cached = self._ancestors.get(key)
        if cached is not None:
            return cached
        seen: set[str] = set()
        queue = deque(name for _, name in node.needs())
        while queue:
            name = queue.popleft()
            if name in seen:
                continue
            seen.add(name)
            ref = self.ctx.by_id.get(name)
            if ref is not None:
                queue.extend(n for _, n in ref.needs() if n not in seen)
        self._ancestors[key] = seen
        return seen
