"""`secret-in-command` and `template-injection`: `${{ }}` inside a command or Python code.

An expression in a shell `run` (or python `code`) is pasted into the program text before it
runs. A secret there is visible in `ps` (the command line of `/bin/sh -c`) and in the shell's
error messages; untrusted text there is code: an input of `x"; rm -rf ~; echo "` runs. Values
belong in the environment (`with.env`), where the program reads them as data (`"$NAME"`,
`os.environ["NAME"]`). The quick fix of both rules does that move (`validate.move_to_env`).

Untrusted (as actionlint and zizmor see GitHub Actions): `trigger.*`, `inputs.*` (but for
inputs declared `type: number` or `boolean`, which are checked before a run), and the
output of http, llm and agent nodes, and of transform and python nodes whose `with` reads
untrusted data (their output passes it on).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flowrun.spec.loader import JsonPath
from flowrun.validate import codes
from flowrun.validate.context import NodeRef, RuleContext
from flowrun.validate.diagnostic import Severity
from flowrun.validate.expressions import parse_once
from flowrun.validate.move_to_env import env_name, move_to_env_fix
from flowrun_engine.expr import ExprSyntaxError, Reference, find_expressions

UNTRUSTED_TYPES = frozenset({"http", "llm", "agent"})
PASSING_ON_TYPES = frozenset({"transform", "python"})  # output = what `with` computed


def check(ctx: RuleContext) -> None:
    tainted = _tainted_nodes(ctx)
    for node, path, value, kind in _sinks(ctx):
        found = find_expressions(value)
        located = ctx.locate(path, value, [(e.start, e.end) for e in found])
        for expression, where in zip(found, located, strict=True):
            refs = _references(ctx, expression.text) if expression.closed else []
            finding = _finding(node, kind, refs, tainted)
            if finding is None:
                continue
            code, message, severity, name = finding
            text = expression.text
            fix = move_to_env_fix(ctx, node, path, kind, text, where, name) if where.exact else None
            ctx.report(code, message, ctx.range(where.span), severity=severity, fix=fix)


def _finding(
    node: NodeRef, kind: str, refs: list[Reference], tainted: set[str]
) -> tuple[str, str, Severity, str] | None:
    """(code, message, severity, env name) of what a pasted expression leaks, if anything."""
    secret = next((r for r in refs if r.context == "secrets" and r.path), None)
    if secret is not None:
        name = str(secret.path[0])
        return codes.SECRET_IN_COMMAND, _secret_message(node, kind, name), Severity.ERROR, name
    untrusted = next((r for r in refs if _untrusted(r, tainted)), None)
    if untrusted is not None and kind != "argv":
        name = env_name(untrusted)
        message = _injection_message(node, kind, untrusted, name)
        return codes.TEMPLATE_INJECTION, message, Severity.WARNING, name
    return None


def _sinks(ctx: RuleContext) -> Iterator[tuple[NodeRef, JsonPath, str, str]]:
    """(node, path, text, kind): shell `run` ("shell" or "argv" items), python `code`."""
    for node in ctx.nodes:
        params = node.raw.get("with")
        if not isinstance(params, dict):
            continue
        node_type = node.raw.get("type")
        base = (*node.path, "with")
        if node_type == "shell" and isinstance(params.get("run"), str):
            yield node, (*base, "run"), params["run"], "shell"
        elif node_type == "shell" and isinstance(params.get("run"), list):
            for i, item in enumerate(params["run"]):
                if isinstance(item, str) and "${{" in item:
                    yield node, (*base, "run", i), item, "argv"
        elif node_type == "python" and isinstance(params.get("code"), str):
            yield node, (*base, "code"), params["code"], "python"


def _references(ctx: RuleContext, text: str) -> list[Reference]:
    parsed = parse_once(ctx, text)
    if isinstance(parsed, ExprSyntaxError):
        return []  # reported by the expression rules
    return parsed.references


def _text_inputs(ctx: RuleContext) -> list[str]:
    """Inputs that may hold any text: not declared as a number or a boolean."""
    inputs = ctx.data.get("inputs")
    if not isinstance(inputs, dict):
        return []
    safe = ("number", "boolean")
    return [
        n for n, spec in inputs.items() if not (isinstance(spec, dict) and spec.get("type") in safe)
    ]


def _untrusted(ref: Reference, tainted: set[str]) -> bool:
    """`tainted` holds node ids and `inputs.<name>` of the text inputs."""
    if ref.context == "trigger":
        return True
    if ref.context == "inputs":
        return not ref.path or f"inputs.{ref.path[0]}" in tainted
    if ref.context != "nodes" or not ref.path:
        return False
    reads_output = len(ref.path) < 2 or ref.path[1] == "output"
    return reads_output and str(ref.path[0]) in tainted


def _tainted_nodes(ctx: RuleContext) -> set[str]:
    """Ids of the nodes whose output may carry untrusted text (to a fixed point)."""
    tainted = {n.id for n in ctx.nodes if n.raw.get("type") in UNTRUSTED_TYPES}
    tainted |= {f"inputs.{name}" for name in _text_inputs(ctx)}
    passing = [n for n in ctx.nodes if n.raw.get("type") in PASSING_ON_TYPES]
    reads = {n.id: _node_references(ctx, n.raw.get("with")) for n in passing}
    changed = True
    while changed:
        changed = False
        for node in passing:
            if node.id not in tainted and any(_untrusted(r, tainted) for r in reads[node.id]):
                tainted.add(node.id)
                changed = True
    return tainted


def _node_references(ctx: RuleContext, value: Any) -> list[Reference]:
    if isinstance(value, str):
        if "${{" not in value:
            return []
        return [r for e in find_expressions(value) if e.closed for r in _references(ctx, e.text)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _node_references(ctx, v)]
    if isinstance(value, list):
        return [r for v in value for r in _node_references(ctx, v)]
    return []


def _secret_message(node: NodeRef, kind: str, name: str) -> str:
    place = {"shell": "the command", "argv": "an argument", "python": "the code"}[kind]
    return (
        f"`secrets.{name}` is pasted into {place} of node `{node.id}`, where any user of this "
        f"machine can read it (`ps`); pass it in `with.env` and read it there"
        + (' as "$NAME"' if kind == "shell" else "")
        + (' as os.environ["NAME"]' if kind == "python" else "")
    ).replace("NAME", name)


def _injection_message(node: NodeRef, kind: str, ref: Reference, name: str) -> str:
    written = ".".join(str(p) for p in (ref.context, *ref.path))
    code = "command" if kind == "shell" else "code"
    reader = f'"${name}"' if kind == "shell" else f'os.environ["{name}"]'
    return (
        f"`{written}` is untrusted text pasted into the {code} of node `{node.id}`: text such "
        f'as `"; rm -rf ~` would run; pass it in `with.env` and read it as {reader}'
    )
