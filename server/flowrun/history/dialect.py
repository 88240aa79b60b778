"""The history's SQL is written once, in SQLite's dialect; PostgreSQL gets it translated here.

What differs, and only that: `?` parameters become `%s` (a literal `%` is doubled),
SQLite's two-argument scalar `max(a, b)` is `greatest(a, b)`, `x IS ?` is
`x IS NOT DISTINCT FROM %s`, `INSERT OR IGNORE` is `ON CONFLICT DO NOTHING`,
`CAST(x AS INTEGER)` is `CAST(trunc(x) AS INTEGER)` (SQLite truncates a real, PostgreSQL
rounds it: a day number or a duration would differ by one), and in the
migrations `INTEGER PRIMARY KEY` (SQLite's auto-numbered row id) is `BIGSERIAL PRIMARY KEY`,
`REAL` is `DOUBLE PRECISION`, and `node_executions` gets the explicit `rowid` that SQLite
gives every table (its rows are read back in the order they were first written).

Shared SQL must qualify the target table's columns inside `ON CONFLICT ... DO UPDATE`
(`node_executions.logs`, not `logs`): PostgreSQL refuses the bare name as ambiguous.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

_IS_PARAM = re.compile(r"\bIS \?")
_OR_IGNORE = re.compile(r"^(\s*)INSERT OR IGNORE INTO", re.IGNORECASE)
_INT_KEY = re.compile(r"\bINTEGER PRIMARY KEY\b")
_REAL = re.compile(r"\bREAL\b")
_NODE_TABLE = "CREATE TABLE node_executions ("
_AS_INTEGER = re.compile(r"\s+AS\s+INTEGER\s*$", re.IGNORECASE)


@functools.lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """The PostgreSQL text of a statement written for SQLite (cached: statements repeat)."""
    text = _calls(_calls(sql.replace("%", "%%"), "max", _greatest), "CAST", _truncating)
    text = _IS_PARAM.sub("IS NOT DISTINCT FROM ?", text).replace("?", "%s")
    if _OR_IGNORE.match(text):
        text = _OR_IGNORE.sub(r"\1INSERT INTO", text) + " ON CONFLICT DO NOTHING"
    if text.lstrip().upper().startswith(("CREATE TABLE", "ALTER TABLE")):
        text = _REAL.sub("DOUBLE PRECISION", _INT_KEY.sub("BIGSERIAL PRIMARY KEY", text))
        text = text.replace(_NODE_TABLE, _NODE_TABLE + "\n        rowid BIGSERIAL,")
    return text


def _calls(sql: str, name: str, rewrite: Callable[[str, str], str]) -> str:
    """Each call `name(...)`, nested ones first, as `rewrite(the name as written, the
    arguments)` gives it."""
    out: list[str] = []
    start = 0
    for found in re.finditer(rf"\b{name}\(", sql, re.IGNORECASE):
        if found.start() < start:
            continue
        end = _closing(sql, found.end())
        inner = _calls(sql[found.end() : end], name, rewrite)
        out.append(sql[start : found.start()] + rewrite(found.group()[:-1], inner))
        start = end + 1
    out.append(sql[start:])
    return "".join(out)


def _greatest(name: str, inner: str) -> str:
    """`max(a, b)` (a scalar: a comma at its top level) → `greatest(a, b)`; the aggregate
    `max(x)` stays."""
    return f"{'greatest' if _top_level_comma(inner) else name}({inner})"


def _truncating(name: str, inner: str) -> str:
    """`CAST(x AS INTEGER)` → `CAST(trunc(x) AS INTEGER)`; other casts stay."""
    cast = _AS_INTEGER.search(inner)
    if cast is not None:
        inner = f"trunc({inner[: cast.start()]}){inner[cast.start() :]}"
    return f"{name}({inner})"


def _closing(sql: str, pos: int) -> int:
    depth = 1
    for index in range(pos, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[index], 0)
        if depth == 0:
            return index
    raise ValueError(f"unbalanced parentheses in {sql!r}")


def _top_level_comma(inner: str) -> bool:
    depth = 0
    for char in inner:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            return True
    return False
