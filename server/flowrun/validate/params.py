"""`with` rules: parameters of each node type (missing, unknown, provider, choices)."""

from __future__ import annotations

from typing import Any

from flowrun.spec.params import NODE_TYPE_SPECS, NodeTypeSpec
from flowrun.validate import codes
from flowrun.validate.context import NodeRef, RuleContext
from flowrun.validate.diagnostic import Related
from flowrun.validate.suggest import closest, did_you_mean, quoted


def check(ctx: RuleContext) -> None:
    for node in ctx.nodes:
        node_type = node.raw.get("type")
        spec = NODE_TYPE_SPECS.get(node_type) if isinstance(node_type, str) else None
        params = node.raw.get("with", {})
        if spec is None or not isinstance(params, dict | None):
            continue
        params = params or {}
        _missing(ctx, node, spec, params)
        _contradictions(ctx, node, spec, params)
        for name, value in params.items():
            _check_param(ctx, node, spec, name, value)


def _missing(ctx: RuleContext, node: NodeRef, spec: NodeTypeSpec, params: dict[str, Any]) -> None:
    if "pin" in node.raw:
        return  # a pinned node does not run
    for group in spec.required:
        if any(params.get(name) is not None for name in group):
            continue
        wanted = " or ".join(f"`{name}`" for name in group)
        message = f"{spec.name} node `{node.id}` needs the parameter {wanted} under `with`"
        if "with" in node.raw:
            where = ctx.key((*node.path, "with"))
        else:
            where = ctx.token((*node.path, "type"))
        ctx.report(codes.MISSING_PARAMETER, message, where)


def _contradictions(
    ctx: RuleContext, node: NodeRef, spec: NodeTypeSpec, params: dict[str, Any]
) -> None:
    """`code` and `function` (or `json` and `body`) together: one would silently win."""
    for group in spec.exclusive:
        given = [name for name in group if name in params]
        if len(given) < 2:
            continue
        first, *others = given
        related = Related(ctx.key((*node.path, "with", first)), f"`{first}` is given here")
        for name in others:
            message = (
                f"{spec.name} node `{node.id}` gives both `{first}` and `{name}`; "
                f"they contradict each other: keep one"
            )
            where = ctx.key((*node.path, "with", name))
            ctx.report(codes.CONFLICTING_PARAMETERS, message, where, related=(related,))


def _check_param(
    ctx: RuleContext, node: NodeRef, spec: NodeTypeSpec, name: str, value: Any
) -> None:
    path = (*node.path, "with", name)
    param = spec.param(name)
    if param is None:
        suggestion = closest(name, spec.param_names)
        message = f"unknown parameter `{name}` for {spec.name} node `{node.id}`"
        message += did_you_mean(suggestion, spec.param_names)
        where = ctx.key(path)
        fix = (
            None
            if suggestion is None
            else ctx.replace_fix(f"Change to `{suggestion}`", where, suggestion)
        )
        ctx.report(codes.UNKNOWN_KEY, message, where, fix=fix)
        return
    if not param.choices or not isinstance(value, str) or "${{" in value:
        return
    if value in param.choices:
        return
    suggestion = closest(value, param.choices)
    where = ctx.token(path)
    fix = (
        None
        if suggestion is None
        else ctx.replace_fix(f"Change to `{suggestion}`", where, suggestion)
    )
    hint = f"; did you mean `{suggestion}`?" if suggestion else ""
    if name == "provider":
        message = f"unknown {spec.name} provider `{value}` in node `{node.id}`{hint}"
        message += f" (providers: {quoted(param.choices)})"
        ctx.report(codes.UNKNOWN_PROVIDER, message, where, fix=fix)
    else:
        message = f"`with.{name}` of node `{node.id}` must be one of {quoted(param.choices)}"
        ctx.report(codes.SCHEMA, message + hint, where, fix=fix)
