"""The history's SQL is written once, in SQLite's dialect; PostgreSQL gets it translated here.

What differs, and only that: `?` parameters become `%s` (a literal `%` is doubled),
SQLite's two-argument scalar `max(a, b)` is `greatest(a, b)`, `x IS ?` is
`x IS NOT DISTINCT FROM %s`, `INSERT OR IGNORE` is `ON CONFLICT DO NOTHING`, and in the
migrations `INTEGER PRIMARY KEY` (SQLite's auto-numbered row id) is `BIGSERIAL PRIMARY KEY`,
`REAL` is `DOUBLE PRECISION`, and `node_executions` gets the explicit `rowid` that SQLite
gives every table (its rows are read back in the order they were first written).

Shared SQL must qualify the target table's columns inside `ON CONFLICT ... DO UPDATE`
(`node_executions.logs`, not `logs`): PostgreSQL refuses the bare name as ambiguous.
"""

from __future__ import annotations

import functools
import re

_IS_PARAM = re.compile(r"\bIS \?")
_OR_IGNORE = re.compile(r"^(\s*)INSERT OR IGNORE INTO", re.IGNORECASE)
_INT_KEY = re.compile(r"\bINTEGER PRIMARY KEY\b")
_REAL = re.compile(r"\bREAL\b")
_NODE_TABLE = "CREATE TABLE node_executions ("


@functools.lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """The PostgreSQL text of a statement written for SQLite (cached: statements repeat)."""
    text = _greatest(sql.replace("%", "%%"))
    text = _IS_PARAM.sub("IS NOT DISTINCT FROM ?", text).replace("?", "%s")
    if _OR_IGNORE.match(text):
        text = _OR_IGNORE.sub(r"\1INSERT INTO", text) + " ON CONFLICT DO NOTHING"
    if text.lstrip().upper().startswith(("CREATE TABLE", "ALTER TABLE")):
        text = _REAL.sub("DOUBLE PRECISION", _INT_KEY.sub("BIGSERIAL PRIMARY KEY", text))
        text = text.replace(_NODE_TABLE, _NODE_TABLE + "\n        rowid BIGSERIAL,")
    return text


def _greatest(sql: str) -> str:
    """`max(a, b)` (a scalar: a comma at its top level) → `greatest(a, b)`; the aggregate
    `max(x)` stays."""
    out: list[str] = []
    start = 0
    for found in re.finditer(r"\bmax\(", sql, re.IGNORECASE):
        if found.start() < start:
            continue
        end = _closing(sql, found.end())
        inner = sql[found.end() : end]
        name = "greatest" if _top_level_comma(inner) else found.group()[:-1]
        out.append(sql[start : found.start()] + f"{name}({_greatest(inner)})")
        start = end + 1
    out.append(sql[start:])
    return "".join(out)


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
