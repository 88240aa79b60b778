"""Matchers of a workflow test's `expect` (docs/format.md, "Tests").

An expected value is a *matcher* when it is a mapping of one of these forms; anything else is
a plain value, compared by deep equality (mappings need the same keys, lists the same length,
and their items may be matchers again; `1 == 1.0`, but `true != 1`):

    {equals: v}            deep equality with v (for a value that looks like a matcher)
    {contains: x}          text holding x; a list with an item matching x; a mapping with key x
    {matches: regex}       text where the regular expression is found (re.search)
    {subset: {...}}        a mapping holding these keys (values matched, mappings again as
                           subsets), or a list holding an item matching each given one
    {approx: x, tol: t}    a number within t of x (tol default 1e-6 relative, at least 1e-9)
    {type: name}           string, number, integer, boolean, object, array (list), null
    {len: n}               text, list or mapping of length n
    {absent: true}         missing or null (`false`: present and not null)

Pure and stdlib-only: the validator, the runner and the pytest plugin share it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from flowrun_engine.expr.values import type_name


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()
MATCHERS = ("equals", "contains", "matches", "subset", "approx", "type", "len", "absent")
TYPE_NAMES = ("string", "number", "integer", "boolean", "object", "array", "list", "null")
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mismatch:
    path: Path  # where, below the expectation (a key or an index per level)
    expected: Any  # the expectation (a value or a matcher) as written
    actual: Any  # MISSING when the key is not there
    message: str


def matcher_name(expected: Any) -> str | None:
    """The matcher `expected` is, or None for a plain value."""
    if not isinstance(expected, Mapping) or not expected:
        return None
    keys = set(expected)
    if "approx" in keys and keys <= {"approx", "tol"}:
        return "approx"
    if len(keys) != 1:
        return None
    (key,) = keys
    if key == "type":
        return "type" if expected["type"] in TYPE_NAMES else None
    return key if key in MATCHERS and key != "approx" else None


def match(expected: Any, actual: Any, path: Path = ()) -> list[Mismatch]:
    """Every way `actual` differs from `expected` (empty: it matches)."""
    name = matcher_name(expected)
    if name is not None:
        problem = _MATCHERS[name](expected[name], actual, expected)
        return [] if problem is None else [Mismatch(path, expected, actual, problem)]
    if isinstance(expected, Mapping):
        return _match_mapping(expected, actual, path, exact=True)
    if isinstance(expected, list):
        return _match_list(expected, actual, path)
    if _equal(expected, actual):
        return []
    return [Mismatch(path, expected, actual, f"expected {_show(expected)}, got {_show(actual)}")]


def match_fields(expected: Any, actual: Any, path: Path = ()) -> list[Mismatch]:
    """An error's expectation: a mapping names some fields (each a value or a matcher); any
    other expectation is matched against the whole value."""
    if isinstance(expected, Mapping) and matcher_name(expected) is None:
        return _match_mapping(expected, actual, path, exact=False)
    return match(expected, actual, path)


def _match_mapping(
    expected: Mapping[str, Any], actual: Any, path: Path, *, exact: bool
) -> list[Mismatch]:
    if not isinstance(actual, Mapping):
        what = "a mapping" + (" with " + ", ".join(f"`{k}`" for k in expected) if expected else "")
        return [Mismatch(path, dict(expected), actual, f"expected {what}, got {_show(actual)}")]
    found: list[Mismatch] = []
    for key, wanted in expected.items():
        found += match(wanted, actual.get(key, MISSING), (*path, key))
    if exact:
        for key in actual:
            if key not in expected:
                message = f"unexpected key `{key}` (value {_show(actual[key])})"
                found.append(Mismatch((*path, key), MISSING, actual[key], message))
    return found


def _match_list(expected: list[Any], actual: Any, path: Path) -> list[Mismatch]:
    if not isinstance(actual, list):
        return [Mismatch(path, expected, actual, f"expected a list, got {_show(actual)}")]
    if len(expected) != len(actual):
        message = f"expected a list of {len(expected)} items, got {len(actual)}"
        return [Mismatch(path, expected, actual, message)]
    found: list[Mismatch] = []
    for index, (wanted, item) in enumerate(zip(expected, actual, strict=True)):
        found += match(wanted, item, (*path, index))
    return found


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return bool(expected == actual) and not isinstance(actual, _Missing)


# --- the matchers: (argument, actual, the whole matcher) → a problem or None ---------------


def _equals(argument: Any, actual: Any, _whole: Any) -> str | None:
    """Deep equality where nothing is a matcher."""
    same = _text(argument) == _text(actual) if not isinstance(actual, _Missing) else False
    return None if same else f"expected {_show(argument)}, got {_show(actual)}"


def _contains(argument: Any, actual: Any, _whole: Any) -> str | None:
    if isinstance(actual, str):
        needle = argument if isinstance(argument, str) else _text(argument)
        ok = needle in actual
    elif isinstance(actual, list):
        ok = any(not match(argument, item) for item in actual)
    elif isinstance(actual, Mapping):
        ok = isinstance(argument, str) and argument in actual
    else:
        return f"expected something containing {_show(argument)}, got {_show(actual)}"
    return None if ok else f"expected {_show(actual)} to contain {_show(argument)}"


def _matches(argument: Any, actual: Any, _whole: Any) -> str | None:
    if not isinstance(actual, str):
        return f"expected text matching /{argument}/, got {_show(actual)}"
    try:
        found = re.search(str(argument), actual)
    except re.error as exc:
        return f"`matches`: {argument!r} is not a regular expression ({exc})"
    return None if found else f"expected text matching /{argument}/, got {_show(actual)}"


def _subset(argument: Any, actual: Any, _whole: Any) -> str | None:
    if isinstance(argument, Mapping):
        problems = _subset_mapping(argument, actual, ())
        return None if not problems else "; ".join(problems)
    if isinstance(argument, list) and isinstance(actual, list):
        missing = [w for w in argument if all(match(w, item) for item in actual)]
        return None if not missing else f"no item of the list matches {_show(missing[0])}"
    return f"expected a mapping or list holding {_show(argument)}, got {_show(actual)}"


def _subset_mapping(expected: Mapping[str, Any], actual: Any, path: Path) -> list[str]:
    if not isinstance(actual, Mapping):
        return [f"{_where(path)}expected a mapping, got {_show(actual)}"]
    problems: list[str] = []
    for key, wanted in expected.items():
        value = actual.get(key, MISSING)
        if isinstance(wanted, Mapping) and matcher_name(wanted) is None:
            problems += _subset_mapping(wanted, value, (*path, key))
        else:
            problems += [f"{_where(m.path)}{m.message}" for m in match(wanted, value, (*path, key))]
    return problems


def _approx(argument: Any, actual: Any, whole: Any) -> str | None:
    tol = whole.get("tol")
    if not _is_number(argument) or (tol is not None and not _is_number(tol)):
        return "`approx` and `tol` must be numbers"
    if not _is_number(actual):
        return f"expected a number close to {argument}, got {_show(actual)}"
    allowed = float(tol) if tol is not None else max(1e-6 * abs(float(argument)), 1e-9)
    if math.isclose(float(actual), float(argument), rel_tol=0, abs_tol=allowed):
        return None
    return f"expected {argument} ± {allowed:g}, got {actual}"


def _type(argument: Any, actual: Any, _whole: Any) -> str | None:
    wanted = "list" if argument == "array" else argument
    got = type_name(actual) if not isinstance(actual, _Missing) else "missing"
    integer = got == "number" and float(actual).is_integer()
    ok = integer if wanted == "integer" else got == wanted
    return None if ok else f"expected a value of type {argument}, got {got} {_show(actual)}"


def _len(argument: Any, actual: Any, _whole: Any) -> str | None:
    if not isinstance(actual, str | list | Mapping):
        return f"expected something of length {argument}, got {_show(actual)}"
    return None if len(actual) == argument else f"expected length {argument}, got {len(actual)}"


def _absent(argument: Any, actual: Any, _whole: Any) -> str | None:
    gone = actual is None or isinstance(actual, _Missing)
    if bool(argument) == gone:
        return None
    return f"expected no value, got {_show(actual)}" if argument else "expected a value, got none"


_MATCHERS = {
    "equals": _equals,
    "contains": _contains,
    "matches": _matches,
    "subset": _subset,
    "approx": _approx,
    "type": _type,
    "len": _len,
    "absent": _absent,
}


# --- text -----------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _show(value: Any, limit: int = 80) -> str:
    if isinstance(value, _Missing):
        return "nothing (missing)"
    text = _text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _where(path: Path) -> str:
    return "" if not path else "at " + ".".join(str(p) for p in path) + ": "
