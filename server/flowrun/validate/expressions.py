"""Expression rules: syntax, unknown references, and `nodes.x` that is not upstream.

The parser is the engine's (`flowrun_engine.expr`), so the validator and the engine agree on
what is valid. Ranges point inside the scalar at the `${{ }}`, the bad token or reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from flowrun.spec.loader import JsonPath, Span
from flowrun.validate import codes
from flowrun.validate.context import Located, NodeRef, RuleContext, StageRef
from flowrun.validate.diagnostic import Fix, Related
from flowrun.validate.graph import Upstream
from flowrun.validate.suggest import closest, did_you_mean, quoted
from flowrun_engine.expr import (
    CONTEXTS,
    STATUS_FUNCTIONS,
    ExprSyntaxError,
    Reference,
    TemplateExpression,
    find_expressions,
    parse,
    references,
    status_calls,
)

TRIGGER_FIELDS = ("method", "path", "headers", "query", "body", "params")
NODE_FIELDS = ("output", "status")


@dataclass(frozen=True)
class Owner:
    """Who evaluates an expression: a node, a stage's loop, or the workflow (outputs, env)."""

    node: NodeRef | None = None
    stage: StageRef | None = None
    env: bool = False  # the top-level `env:`, evaluated before any node runs
    when: bool = False  # a node's `when`: the only place for status functions

    @property
    def in_loop(self) -> bool:
        return self.stage is not None and self.stage.has_loop


def check(ctx: RuleContext) -> None:
    checker = _Checker(ctx)
    for path, value, owner in _scopes(ctx):
        checker.check_string(path, value, owner)
    _plain_conditions(ctx)


def _plain_conditions(ctx: RuleContext) -> None:
    """`when`/`until` written as plain text: a non-empty text is always true."""
    conditions = [(n.path, "when", f"node `{n.id}`", n.raw.get("when")) for n in ctx.nodes]
    for stage in ctx.stages.values():
        loop = stage.raw.get("loop")
        if isinstance(loop, dict):
            name = f"stage `{stage.id}`" if stage.id else f"stage {stage.index + 1}"
            conditions.append(((*stage.path, "loop"), "until", name, loop.get("until")))
    for owner_path, key, owner, value in conditions:
        if not isinstance(value, str) or "${{" in value:
            continue
        path = (*owner_path, key)
        where = ctx.token(path)
        condition = value.strip()
        if key == "when" and condition in STATUS_FUNCTIONS:
            condition += "()"  # `when: always` means the status function
        wrapped = f"${{{{ {condition} }}}}"
        message = (
            f"`{key}` of {owner} is plain text, which is always true; "
            f"write the condition as an expression: `{wrapped}`"
        )
        fix = None
        span = ctx.source.values.get(path)
        if span is not None and ctx.text[span[0] : span[1]] == value:
            parent = ctx.source.values.get(owner_path, (0, 0))
            in_flow = ctx.text.startswith("{", parent[0])  # `{...}`: `{`/`}` must be quoted
            new_text = "'" + wrapped.replace("'", "''") + "'" if in_flow else wrapped
            fix = ctx.replace_fix("Make it an expression", where, new_text)
        ctx.report(codes.EXPRESSION_SYNTAX, message, where, fix=fix)


def _scopes(ctx: RuleContext) -> Iterator[tuple[JsonPath, str, Owner]]:
    """The strings whose expressions are evaluated: in a node's `with`/`when`, a loop's
    `until`, `outputs`, `env`, `trigger.response` and `trigger.auth` (not in `pin`,
    `trigger.sample` or input defaults)."""
    nodes = {node.path: node for node in ctx.nodes}
    for path, value in ctx.source.strings:
        if "${{" not in value:
            continue
        owner = _owner_of(ctx, path, nodes)
        if owner is not None:
            yield path, value, owner


def _owner_of(ctx: RuleContext, path: JsonPath, nodes: dict[JsonPath, NodeRef]) -> Owner | None:
    head = path[0]
    if head == "outputs":
        return Owner()
    if head == "env":
        return Owner(env=True)
    if head == "trigger" and len(path) > 1 and path[1] in ("response", "auth"):
        return Owner()  # evaluated by `flowrun serve`, after the run / before it
    if head == "stages" and len(path) == 4 and path[2:] == ("loop", "until"):
        stage = ctx.stages.get(path[1]) if isinstance(path[1], int) else None
        return Owner(None, stage) if stage is not None else None
    size = 2 if head == "nodes" else 4
    if len(path) > size and path[size] in ("with", "when"):
        node = nodes.get(path[:size])
        if node is not None:
            return Owner(node, ctx.stage_of(node), when=path[size] == "when")
    return None


class _Checker:
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.upstream = Upstream(ctx)
        inputs = ctx.data.get("inputs")
        self.inputs = list(inputs) if isinstance(inputs, dict) else []
        secrets = ctx.data.get("secrets")
        self.secrets = (
            [s for s in secrets if isinstance(s, str)] if isinstance(secrets, list) else []
        )

    def check_string(self, path: JsonPath, value: str, owner: Owner) -> None:
        found = find_expressions(value)
        located = self.ctx.locate(path, value, [(e.start, e.end) for e in found])
        for expression, where in zip(found, located, strict=True):
            self._check_expression(expression, where, owner)

    def _check_expression(self, found: TemplateExpression, where: Located, owner: Owner) -> None:
        shift = found.text_start - found.start
        if not found.closed:
            message = "expression `${{` is not closed; add `}}` after it"
            self.ctx.report(codes.EXPRESSION_SYNTAX, message, self.ctx.range(where.span))
            return
        result = parse_once(self.ctx, found.text)
        if isinstance(result, ExprSyntaxError):
            span = where.sub(shift + result.offset, result.length)
            if not found.text.strip():
                span = where.span  # `${{ }}`: the whole expression
            message = f"invalid expression: {result.message}"
            self.ctx.report(codes.EXPRESSION_SYNTAX, message, span)
            return
        if not owner.when:
            for name, start, end in result.status_calls:
                message = (
                    f"`{name}()` can only be used in a node's `when`, where it decides "
                    "whether the node runs"
                )
                self.ctx.report(
                    codes.EXPRESSION_SYNTAX, message, where.sub(shift + start, end - start)
                )
        for ref in result.references:
            span = where.sub(shift + ref.start, ref.end - ref.start)
            self._check_reference(ref, found.text[ref.start : ref.end], span, owner)

    def _check_reference(self, ref: Reference, written: str, span: Span, owner: Owner) -> None:
        where = span
        first = ref.path[0] if ref.path else None
        if owner.env and ref.context in ("nodes", "loop"):
            message = (
                f"`{ref.context}` is not available in the top-level `env:`, which is evaluated "
                "before any node runs; use inputs, trigger, secrets or env there, or set the "
                "variable in the node's `with.env`"
            )
            self.ctx.report(codes.UNKNOWN_REFERENCE, message, where)
        elif ref.context not in CONTEXTS:
            suggestion = closest(ref.context, CONTEXTS)
            message = f"unknown context `{ref.context}` in expression" + did_you_mean(
                suggestion, CONTEXTS
            )
            fix = self._rename_fix(where, written, ref.context, suggestion)
            self.ctx.report(codes.UNKNOWN_REFERENCE, message, where, fix=fix)
        elif ref.context == "nodes" and isinstance(first, str):
            self._check_node(ref, written, where, owner)
        elif ref.context in ("inputs", "secrets", "trigger") and first is not None:
            self._check_name(ref, written, where)
        elif ref.context == "loop":
            self._check_loop(ref, where, owner)

    def _check_name(self, ref: Reference, written: str, where: Span) -> None:
        name = str(ref.path[0])
        known = {"inputs": self.inputs, "secrets": self.secrets, "trigger": TRIGGER_FIELDS}
        choices = list(known[ref.context])
        if name in choices:
            return
        suggestion = closest(name, choices)
        if ref.context == "inputs":
            message = f"unknown input `{name}`" + did_you_mean(suggestion, choices)
            if suggestion is None:
                message += "; declare it under `inputs:`"
        elif ref.context == "secrets":
            message = f"secret `{name}` is not declared; add `{name}` to `secrets:`"
            if suggestion is not None:
                message = f"secret `{name}` is not declared; did you mean `{suggestion}`?"
        else:
            message = f"`trigger.{name}` does not exist; use {quoted(TRIGGER_FIELDS)}"
        fix = self._rename_fix(where, written, name, suggestion)
        self.ctx.report(codes.UNKNOWN_REFERENCE, message, where, fix=fix)

    def _check_node(self, ref: Reference, written: str, where: Span, owner: Owner) -> None:
        name = str(ref.path[0])
        target = self.ctx.by_id.get(name)
        if target is None:
            others = [i for i in self.ctx.by_id if owner.node is None or i != owner.node.id]
            suggestion = closest(name, others)
            message = f"unknown node `{name}` in expression" + did_you_mean(suggestion, others)
            fix = self._rename_fix(where, written, name, suggestion)
            self.ctx.report(codes.UNKNOWN_REFERENCE, message, where, fix=fix)
            return
        if len(ref.path) > 1 and ref.path[1] not in NODE_FIELDS:
            message = f"`nodes.{name}.{ref.path[1]}` does not exist; use `nodes.{name}.output`"
            message += f" or `nodes.{name}.status`"
            self.ctx.report(codes.UNKNOWN_REFERENCE, message, where)
            return
        self._check_upstream(target, where, owner)

    def _check_upstream(self, target: NodeRef, where: Span, owner: Owner) -> None:
        if owner.node is not None:
            if self.upstream.is_upstream(owner.node, target):
                return
            if target is owner.node:
                message = f"node `{target.id}` cannot use its own output"
                self.ctx.report(codes.NOT_UPSTREAM, message, where)
                return
            message = (
                f"`nodes.{target.id}` is not upstream of `{owner.node.id}`; "
                f"add `{target.id}` to `needs`"
            )
            fix = add_needs_fix(self.ctx, owner.node, target.id)
            defined = Related(
                self.ctx.token((*target.path, "id")), f"`{target.id}` is defined here"
            )
            self.ctx.report(codes.NOT_UPSTREAM, message, where, related=(defined,), fix=fix)
        elif owner.stage is not None and (target.stage is None or target.stage > owner.stage.index):
            message = (
                f"`nodes.{target.id}` runs after the loop of stage `{owner.stage.id}` is checked; "
                "use a node of this stage or an earlier one"
            )
            self.ctx.report(codes.NOT_UPSTREAM, message, where)

    def _check_loop(self, ref: Reference, where: Span, owner: Owner) -> None:
        if not owner.in_loop:
            message = "`loop` is only defined inside a stage with a `loop:`"
            self.ctx.report(codes.UNKNOWN_REFERENCE, message, where)
        elif ref.path and ref.path[0] != "iteration":
            message = f"`loop.{ref.path[0]}` does not exist; use `loop.iteration`"
            self.ctx.report(codes.UNKNOWN_REFERENCE, message, where)

    def _rename_fix(
        self, where: Span, written: str, wrong: str, suggestion: str | None
    ) -> Fix | None:
        if suggestion is None or wrong not in written:
            return None
        replaced = written.replace(wrong, suggestion, 1)
        return self.ctx.replace_fix(f"Change to `{suggestion}`", self.ctx.range(where), replaced)


@dataclass(frozen=True)
class Parsed:
    references: list[Reference]
    status_calls: tuple[tuple[str, int, int], ...]  # (name, start, end) in the expression


def parse_once(ctx: RuleContext, text: str) -> Parsed | ExprSyntaxError:
    """What an expression refers to and calls, parsed once per file (rules share it)."""
    cached: Parsed | ExprSyntaxError | None = ctx.parsed.get(text)
    if cached is None:
        simple = _simple_reference(text)
        if simple is not None:
            cached = Parsed(simple, ())
        else:
            try:
                tree = parse(text)
                cached = Parsed(references(tree), tuple(status_calls(tree)))
            except ExprSyntaxError as exc:
                cached = exc
        ctx.parsed[text] = cached
    return cached


_SIMPLE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*")
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})


def _simple_reference(text: str) -> list[Reference] | None:
    """The common `context.a.b` without the parser (which gives the same reference)."""
    match = _SIMPLE.fullmatch(text)
    if match is None or match.group(1) in _KEYWORDS:
        return None
    path = tuple(match.group(2).split(".")[1:])
    return [Reference(match.group(1), path, match.start(1), match.end(2))]


def add_needs_fix(ctx: RuleContext, node: NodeRef, target: str) -> Fix | None:
    """ "Add `target` to needs": an edit that fits how `needs` is written (or is missing)."""
    text = ctx.text
    needs = node.raw.get("needs")
    spans = ctx.source.values
    span = spans.get((*node.path, "needs"))
    title = f"Add `{target}` to `needs` of `{node.id}`"
    if span is None:
        id_key = ctx.source.keys.get((*node.path, "id"))
        id_value = spans.get((*node.path, "id"))
        if id_key is None or id_value is None:
            return None
        whole = spans.get(node.path)
        if whole is not None and text.startswith("{", whole[0]):  # a flow mapping
            return _insert(ctx, title, id_value[1], f", needs: [{target}]")
        indent = " " * (id_key[0] - ctx.source.index.line_start(id_key[0]))
        return _insert(ctx, title, id_value[1], f"\n{indent}needs: [{target}]")
    written = text[span[0] : span[1]]
    if isinstance(needs, list) and written.startswith("[") and written.endswith("]"):
        addition = f", {target}" if needs else target
        return _insert(ctx, title, span[1] - 1, addition)
    if isinstance(needs, list) and needs:
        last = spans.get((*node.path, "needs", len(needs) - 1))
        if last is None:
            return None
        prefix = text[ctx.source.index.line_start(last[0]) : last[0]]
        return _insert(ctx, title, last[1], f"\n{prefix}{target}")
    if isinstance(needs, str):
        return ctx.replace_fix(title, ctx.range(span), f"[{needs}, {target}]")
    return None


def _insert(ctx: RuleContext, title: str, offset: int, new_text: str) -> Fix:
    return Fix(title, ((ctx.range((offset, offset)), new_text),))
