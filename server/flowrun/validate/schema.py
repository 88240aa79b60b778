"""Schema rules: the pydantic models decide, this module says where and why.

Each pydantic error is mapped back to the source map (its `loc` cleaned of union tags) and
rewritten as a message naming the key, its owner (node, stage, input) and what is expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic_core import ErrorDetails, ValidationError

from flowrun.spec import checks, core_schema
from flowrun.spec.loader import JsonPath
from flowrun.validate import codes
from flowrun.validate.context import RuleContext
from flowrun.validate.diagnostic import Range
from flowrun.validate.suggest import closest, did_you_mean, quoted

if TYPE_CHECKING:
    from pydantic import BaseModel

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "`true`/`false`",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "list_type": "a list",
    "none_required": "empty",
}

_BOUNDS = {
    "greater_than_equal": "at least",
    "greater_than": "more than",
    "less_than_equal": "at most",
    "less_than": "less than",
}

_PATTERNS = {
    checks.NODE_ID_PATTERN: "letters, digits, `_` and `-`, starting with a letter or `_`",
    checks.WORKFLOW_ID_PATTERN: "lower-case letters, digits, `_` and `-` (at most 64), "
    "starting with a letter or digit",
    checks.NAME_PATTERN: "letters, digits and `_`, starting with a letter or `_`",
    r"^[A-Za-z]+$": "an HTTP method such as GET or POST",
    r"^/": "a path starting with `/`",
}


def check(ctx: RuleContext) -> None:
    data = checks.schema_input(ctx.data)
    try:
        core_schema.checker().validate_python(data)
    except ValidationError as exc:
        _report_errors(ctx, exc.errors(include_url=False))
        return
    ctx.checked = data  # valid: the values below are what the models hold
    for name, spec in data.get("inputs", {}).items():
        kind, default = spec.get("type"), spec.get("default")
        if kind is not None and default is not None and not checks.accepts(kind, default):
            wanted = checks.INPUT_TYPE_WORDS[kind]
            message = (
                f"the default of input `{name}` must be {wanted} (its type is `{kind}`), "
                f"not {_show(default)}"
            )
            ctx.report(codes.SCHEMA, message, ctx.token(("inputs", name, "default")))


def _report_errors(ctx: RuleContext, errors: list[ErrorDetails]) -> None:
    type_errors: dict[JsonPath, list[str]] = {}
    for error in errors:
        kind = error["type"]
        if kind == "missing":
            _missing(ctx, clean_path(ctx.data, error["loc"][:-1]), str(error["loc"][-1]))
            continue
        path, on_key = _clean(ctx.data, error["loc"])
        if kind in _EXPECTED:
            type_errors.setdefault(path, []).append(_EXPECTED[kind])
        else:
            _report_one(ctx, path, on_key, error)
    for path, expected in type_errors.items():
        _wrong_type(ctx, path, expected)


def _report_one(ctx: RuleContext, path: JsonPath, on_key: bool, error: ErrorDetails) -> None:
    kind = error["type"]
    where = ctx.key(path) if on_key else ctx.token(path)
    if kind == "extra_forbidden":
        _unknown_key(ctx, path)
    elif kind == "literal_error":
        _not_one_of(ctx, path, error)
    elif kind == "bad_duration":
        ctx.report(codes.BAD_DURATION, f"{_subject(ctx, path)}: {error['msg']}", where)
    elif kind == "nodes_or_stages":
        _nodes_or_stages(ctx)
    elif kind == "string_pattern_mismatch" and "needs" in path[-2:]:
        return  # reported as unknown-needs: no node can have that id
    elif kind == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        rule = _PATTERNS.get(pattern, f"the pattern {pattern}")
        message = f"{_pattern_subject(ctx, path)} `{error['input']}` is not valid: use {rule}"
        ctx.report(codes.SCHEMA, message, where)
    elif kind in _BOUNDS:
        bound = next(iter((error.get("ctx") or {}).values()), "?")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        message = (
            f"{_subject(ctx, path)} must be {_BOUNDS[kind]} {bound}, not {_show(error['input'])}"
        )
        code = codes.LOOP_BOUNDS if _in_loop(path) else codes.SCHEMA
        ctx.report(code, message, where)
    elif kind == "too_short":
        ctx.report(codes.SCHEMA, f"{_subject(ctx, path)} is empty; add at least one item", where)
    else:  # pragma: no cover - a pydantic error type without its own wording here
        message = f"{_subject(ctx, path)}: {_lower_first(error['msg'])}"
        ctx.report(codes.SCHEMA, message, where)


def _missing(ctx: RuleContext, parent: JsonPath, key: str) -> None:
    if _in_loop((*parent, key)):
        owner = _owner(ctx, parent[:2])
        message = f"the loop of {owner} has no `max_iters`; add `max_iters: 3` (1 to 100)"
        ctx.report(codes.LOOP_BOUNDS, message, ctx.key(parent))
        return
    owner = _owner(ctx, parent)
    message = f"missing required key `{key}` in {owner}"
    if key == "version" and parent == ():
        message = "missing required key `version`; add `version: 1` at the top"
    ctx.report(codes.SCHEMA, message, _parent_anchor(ctx, parent))


def _parent_anchor(ctx: RuleContext, parent: JsonPath) -> Range:
    """Where to report a missing key: the owner's id, its key, or its first line."""
    if (*parent, "id") in ctx.source.values:
        return ctx.token((*parent, "id"))
    span = ctx.source.values.get(parent) or ctx.source.first_line_span()
    return ctx.range((span[0], min(span[1], ctx.source.index.line_end(span[0]))))


def _unknown_key(ctx: RuleContext, path: JsonPath) -> None:
    key = str(path[-1])
    known = known_keys(path[:-1])
    suggestion = closest(key, known)
    message = f"unknown key `{key}` in {_owner(ctx, path[:-1])}" + did_you_mean(suggestion, known)
    where = ctx.key(path)
    fix = None
    if suggestion is not None:
        fix = ctx.replace_fix(f"Change to `{suggestion}`", where, suggestion)
    ctx.report(codes.UNKNOWN_KEY, message, where, fix=fix)


def _not_one_of(ctx: RuleContext, path: JsonPath, error: ErrorDetails) -> None:
    expected = str((error.get("ctx") or {}).get("expected", "")).replace("'", "`")
    value = error["input"]
    choices = [c.strip("` ") for c in expected.replace(" or ", ", ").split(",")]
    suggestion = closest(value, choices) if isinstance(value, str) else None
    where = ctx.token(path)
    fix = None
    if suggestion is not None:
        fix = ctx.replace_fix(f"Change to `{suggestion}`", where, suggestion)
    hint = f"; did you mean `{suggestion}`?" if suggestion else ""
    if _is_node_type(path) and value is None:
        message = f"{_owner(ctx, path[:-1])} needs a `type`: one of {quoted(choices)}"
        ctx.report(codes.SCHEMA, message, ctx.key(path))
        return
    if _is_node_type(path):
        message = f"unknown node type `{value}` in {_owner(ctx, path[:-1])}{hint}"
        message += "" if suggestion else f" (types: {quoted(choices)})"
        ctx.report(codes.UNKNOWN_NODE_TYPE, message, where, fix=fix)
        return
    if isinstance(value, str) and value in choices and path == ("version",):
        message = f"`version` must be the number {value}, not the text `{value}`; remove the quotes"
        ctx.report(
            codes.SCHEMA, message, where, fix=ctx.replace_fix("Remove the quotes", where, value)
        )
        return
    message = f"{_subject(ctx, path)} must be {expected}, not {_show(value)}{hint}"
    ctx.report(codes.SCHEMA, message, where, fix=fix)


def _nodes_or_stages(ctx: RuleContext) -> None:
    if "nodes" in ctx.data and "stages" in ctx.data:
        message = "a workflow has `nodes` or `stages`, not both; move the nodes into a stage"
        ctx.report(codes.SCHEMA, message, ctx.key(("stages",)))
    elif "nodes" in ctx.data or "stages" in ctx.data:
        key = "nodes" if "nodes" in ctx.data else "stages"
        ctx.report(codes.SCHEMA, f"`{key}` is empty; add at least one node", ctx.key((key,)))
    else:
        message = "a workflow needs `nodes:` (a list of nodes) or `stages:`; add `nodes:`"
        ctx.report(codes.SCHEMA, message, ctx.range(ctx.source.first_line_span()))


def _wrong_type(ctx: RuleContext, path: JsonPath, expected: list[str]) -> None:
    value = _value_at(ctx.data, path)
    unique = list(dict.fromkeys(expected))
    if "a number" in unique and "a whole number" in unique:
        unique.remove("a whole number")
    wanted = unique[-1] if len(unique) == 1 else ", ".join(unique[:-1]) + " or " + unique[-1]
    message = f"{_subject(ctx, path)} must be {wanted}, not {_show(value)}"
    if _in_loop(path):
        ctx.report(codes.LOOP_BOUNDS, message, ctx.token(path))
    else:
        ctx.report(codes.SCHEMA, message, ctx.token(path))


# --- paths, owners and names ----------------------------------------------------------------


def clean_path(data: Any, loc: tuple[int | str, ...]) -> JsonPath:
    return _clean(data, loc)[0]


def _clean(data: Any, loc: tuple[int | str, ...]) -> tuple[JsonPath, bool]:
    """The data path of a pydantic `loc` (union tags dropped) and whether it names a key."""
    path: list[str | int] = []
    current = data
    on_key = False
    for part in loc:
        if part == "[key]":
            on_key = True
            break
        if not _has(current, part):
            continue
        current = current[part]
        path.append(part)
    return tuple(path), on_key


def _has(value: Any, part: int | str) -> bool:
    if isinstance(value, dict):
        return isinstance(part, str) and part in value
    return isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)


def model_at(path: JsonPath) -> type[BaseModel] | None:
    """The model describing the mapping at `path`, from the shape of the path."""
    from flowrun.spec import models

    tail = tuple("#" if isinstance(p, int) else p for p in path)
    if tail == ():
        return models.Workflow
    table: dict[tuple[str, ...], type[BaseModel]] = {
        ("trigger",): models.Trigger,
        ("trigger", "sample"): models.TriggerSample,
        ("trigger", "response"): models.TriggerResponse,
        ("trigger", "auth"): models.TriggerAuth,
        ("trigger", "auth", "hmac"): models.HmacAuth,
        ("defaults",): models.Defaults,
        ("defaults", "retry"): models.Retry,
        ("stages", "#"): models.Stage,
        ("stages", "#", "loop"): models.Loop,
        ("nodes", "#"): models.Node,
        ("nodes", "#", "retry"): models.Retry,
        ("tests", "#"): models.WorkflowTest,
        ("tests", "#", "trigger"): models.TriggerSample,
        ("tests", "#", "expect"): models.Expectation,
    }
    if len(tail) == 5 and tail[:4] == ("tests", "#", "expect", "nodes"):
        return models.NodeExpectation
    if len(tail) == 2 and tail[0] == "inputs":
        return models.Input
    if tail[:2] == ("stages", "#") and len(tail) > 2 and tail[2] == "nodes":
        tail = tail[2:]
    return table.get(tail)


def known_keys(path: JsonPath) -> list[str]:
    model = model_at(path)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _owner(ctx: RuleContext, path: JsonPath) -> str:
    """`node \\`fetch\\``, `stage \\`build\\``, `input \\`style\\``, `trigger`, `the top level`."""
    for owner_path, label in _owners(ctx.data, path):
        if owner_path == path:
            return label
    if not path:
        return "the top level"
    return f"`{_dotted(path)}`"


def _owners(data: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    for i in range(len(path), 0, -1):
        sub = path[:i]
        if len(sub) >= 2 and sub[-2] in ("nodes", "stages") and isinstance(sub[-1], int):
            kind = "node" if sub[-2] == "nodes" else "stage"
            value = _value_at(data, sub)
            name = value.get("id") if isinstance(value, dict) else None
            label = f"{kind} `{name}`" if isinstance(name, str) else f"{kind} {sub[-1] + 1}"
            yield sub, label
        elif len(sub) == 2 and sub[0] == "inputs":
            yield sub, f"input `{sub[1]}`"


def _subject(ctx: RuleContext, path: JsonPath) -> str:
    """ "`timeout` in node `fetch`" for a value; its owner when the value is an owner."""
    for owner_path, label in _owners(ctx.data, path):
        if owner_path == path:
            return label
        rest = path[len(owner_path) :]
        return f"`{_dotted(rest)}` in {label}"
    return f"`{_dotted(path)}`" if path else "the workflow"


def _pattern_subject(ctx: RuleContext, path: JsonPath) -> str:
    if path == ("id",):
        return "workflow id"
    if len(path) >= 3 and path[-1] == "id" and path[-3] in ("nodes", "stages"):
        return "node id" if path[-3] == "nodes" else "stage id"
    if path[:1] == ("secrets",):
        return "secret name"
    if path[:1] == ("inputs",):
        return "input name"
    return _subject(ctx, path)


def _dotted(path: JsonPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _value_at(data: Any, path: JsonPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _show(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f"`{value}`" if len(value) <= 40 else "a long text"
    if isinstance(value, int | float):
        return f"the number `{value}`"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _in_loop(path: JsonPath) -> bool:
    return len(path) >= 3 and path[0] == "stages" and path[2] == "loop"


def _is_node_type(path: JsonPath) -> bool:
    return len(path) >= 3 and path[-1] == "type" and path[-3] == "nodes"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
