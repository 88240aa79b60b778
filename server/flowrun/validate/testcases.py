"""Rules of the `tests:` section: names, mocks, expectations, inputs and matchers.

The schema rule has checked the shape (unknown keys, statuses); these check what the shape
cannot: a mock or expectation naming no node, an output the workflow does not declare, an
input of the wrong type, a test name used twice, a matcher misspelt or with a bad argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flowrun.spec.checks import INPUT_TYPE_WORDS, accepts
from flowrun.spec.loader import JsonPath
from flowrun.testing.matchers import MATCHERS, TYPE_NAMES, matcher_name
from flowrun.validate import codes
from flowrun.validate.context import RuleContext
from flowrun.validate.diagnostic import Related
from flowrun.validate.suggest import closest, did_you_mean

_MATCHER_CUTOFF = 0.8  # `contain` → `contains`, but `content` is a plain key


def check(ctx: RuleContext) -> None:
    tests = ctx.data.get("tests")
    if not isinstance(tests, list):
        return
    _duplicate_names(ctx, tests)
    for index, test in enumerate(tests):
        if isinstance(test, dict):
            _test(ctx, ("tests", index), test)


def _duplicate_names(ctx: RuleContext, tests: list[Any]) -> None:
    first: dict[str, int] = {}
    for index, test in enumerate(tests):
        name = test.get("name") if isinstance(test, dict) else None
        if not isinstance(name, str):
            continue
        seen = first.setdefault(name, index)
        if seen != index:
            related = Related(ctx.token(("tests", seen, "name")), f"first test `{name}` here")
            message = f"test name `{name}` is used twice; test names must be unique in the file"
            ctx.report(
                codes.DUPLICATE_TEST,
                message,
                ctx.token(("tests", index, "name")),
                related=(related,),
            )


def _test(ctx: RuleContext, path: JsonPath, test: dict[str, Any]) -> None:
    mock = test.get("mock")
    if isinstance(mock, dict):
        for node_id in mock:
            _known_node(ctx, (*path, "mock", node_id), str(node_id), "mocks")
    inputs = test.get("inputs")
    if isinstance(inputs, dict):
        _inputs(ctx, (*path, "inputs"), inputs)
    expect = test.get("expect")
    if isinstance(expect, dict):
        _expect(ctx, (*path, "expect"), expect)


def _known_node(ctx: RuleContext, path: JsonPath, node_id: str, verb: str) -> bool:
    if node_id in ctx.by_id:
        return True
    ids = list(ctx.by_id)
    suggestion = closest(node_id, ids)
    where = ctx.key(path)
    message = f"this test {verb} node `{node_id}`, but there is no node `{node_id}`"
    fix = ctx.replace_fix(f"Change to `{suggestion}`", where, suggestion) if suggestion else None
    ctx.report(codes.TEST_UNKNOWN_NODE, message + did_you_mean(suggestion, ids), where, fix=fix)
    return False


def _inputs(ctx: RuleContext, path: JsonPath, inputs: dict[str, Any]) -> None:
    declared = ctx.checked.get("inputs", {}) if ctx.checked is not None else None
    if declared is None:
        return
    for name, value in inputs.items():
        spec = declared.get(name)
        if spec is None:
            suggestion = closest(name, declared)
            where = ctx.key((*path, name))
            message = f"the workflow has no input `{name}`" + did_you_mean(suggestion, declared)
            fix = (
                ctx.replace_fix(f"Change to `{suggestion}`", where, suggestion)
                if suggestion
                else None
            )
            ctx.report(codes.TEST_INPUT, message, where, fix=fix)
        elif value is not None and not accepts(spec.get("type"), value):
            _wrong_input_type(ctx, (*path, name), name, spec.get("type"))


def _wrong_input_type(ctx: RuleContext, path: JsonPath, name: str, kind: str | None) -> None:
    wanted = INPUT_TYPE_WORDS[kind] if kind else "any value"
    ctx.report(codes.TEST_INPUT, f"input `{name}` must be {wanted}", ctx.token(path))


def _expect(ctx: RuleContext, path: JsonPath, expect: dict[str, Any]) -> None:
    outputs = expect.get("outputs")
    if isinstance(outputs, dict):
        declared = (
            list(ctx.data.get("outputs") or {}) if isinstance(ctx.data.get("outputs"), dict) else []
        )
        for name, value in outputs.items():
            _known_output(ctx, (*path, "outputs", name), str(name), declared)
            _matchers(ctx, (*path, "outputs", name), value)
    nodes = expect.get("nodes")
    if isinstance(nodes, dict):
        for node_id, node_expect in nodes.items():
            if _known_node(ctx, (*path, "nodes", node_id), str(node_id), "expects") and isinstance(
                node_expect, dict
            ):
                for key in ("output", "error"):
                    if key in node_expect:
                        _matchers(ctx, (*path, "nodes", node_id, key), node_expect[key])
    if "error" in expect:
        _matchers(ctx, (*path, "error"), expect["error"])


def _known_output(ctx: RuleContext, path: JsonPath, name: str, declared: list[str]) -> None:
    if name in declared:
        return
    suggestion = closest(name, declared)
    where = ctx.key(path)
    message = f"the workflow has no output `{name}`" + did_you_mean(suggestion, declared)
    if not declared:
        message += "; declare it under `outputs:`"
    fix = ctx.replace_fix(f"Change to `{suggestion}`", where, suggestion) if suggestion else None
    ctx.report(codes.TEST_UNKNOWN_OUTPUT, message, where, fix=fix)


def _matchers(ctx: RuleContext, path: JsonPath, value: Any) -> None:
    """Every matcher (and would-be matcher) inside an expected value."""
    for where, item in _walk(path, value):
        name = matcher_name(item)
        if name is not None:
            _matcher_argument(ctx, where, name, item)
        elif isinstance(item, dict) and len(item) == 1:
            _misspelt_matcher(ctx, where, item)


def _walk(path: JsonPath, value: Any) -> Iterator[tuple[JsonPath, Any]]:
    yield path, value
    if matcher_name(value) in ("equals",):
        return  # the argument of `equals` is a plain value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk((*path, key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk((*path, index), item)


def _misspelt_matcher(ctx: RuleContext, path: JsonPath, item: dict[str, Any]) -> None:
    (key,) = item
    if key == "type":
        guess = closest(str(item["type"]), TYPE_NAMES)
        if guess is not None:
            where = ctx.token((*path, "type"))
            message = (
                f"unknown type `{item['type']}` for the `type` matcher; did you mean `{guess}`?"
            )
            ctx.report(
                codes.UNKNOWN_MATCHER,
                message,
                where,
                fix=ctx.replace_fix(f"Change to `{guess}`", where, guess),
            )
        return
    import difflib

    found = difflib.get_close_matches(str(key), MATCHERS, n=1, cutoff=_MATCHER_CUTOFF)
    if not found:
        return
    where = ctx.key((*path, key))
    message = (
        f"unknown matcher `{key}`; did you mean `{found[0]}`? (to expect a mapping with the "
        f"key `{key}`, write `{{equals: {{{key}: …}}}}`)"
    )
    fix = ctx.replace_fix(f"Change to `{found[0]}`", where, found[0])
    ctx.report(codes.UNKNOWN_MATCHER, message, where, fix=fix)


def _matcher_argument(ctx: RuleContext, path: JsonPath, name: str, item: dict[str, Any]) -> None:
    argument = item[name]
    problem: str | None = None
    if name == "len" and (
        not isinstance(argument, int) or isinstance(argument, bool) or argument < 0
    ):
        problem = "`len` takes a whole number, at least 0"
    elif name == "approx" and not all(_is_number(item.get(k, 0)) for k in ("approx", "tol")):
        problem = "`approx` and `tol` take numbers"
    elif name == "absent" and not isinstance(argument, bool):
        problem = "`absent` takes `true` or `false`"
    elif name == "matches":
        try:
            re.compile(str(argument))
        except re.error as exc:
            problem = f"`matches` takes a regular expression: {exc}"
    if problem is not None:
        ctx.report(codes.BAD_MATCHER, problem, ctx.token((*path, name)))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
