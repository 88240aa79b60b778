"""Context references: the paths such as `nodes.fetch.output.x` an expression reads.

The validator uses them to check names (unknown context, unknown node, a node not upstream).
A path is a chain of `.name` and literal `[...]` accesses rooted at a name; it stops at the
first non-literal index, whose own references are collected separately.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flowrun_engine.expr.syntax import (
    STATUS_FUNCTIONS,
    Attr,
    Binary,
    Call,
    Const,
    Expr,
    Index,
    ListExpr,
    Name,
    Unary,
)


@dataclass(frozen=True)
class Reference:
    """A context path used by an expression, e.g. `nodes.fetch.output.x`."""

    context: str
    path: tuple[str | int, ...]
    start: int
    end: int


def _children(expr: Expr) -> Iterator[Expr]:
    if isinstance(expr, Attr):
        yield expr.obj
    elif isinstance(expr, Index):
        yield expr.obj
        yield expr.index
    elif isinstance(expr, Call | ListExpr):
        yield from expr.args if isinstance(expr, Call) else expr.items
    elif isinstance(expr, Unary):
        yield expr.operand
    elif isinstance(expr, Binary):
        yield expr.left
        yield expr.right


def _literal_key(index: Expr) -> str | int | None:
    if isinstance(index, Const) and (
        isinstance(index.value, str)
        or (isinstance(index.value, int) and not isinstance(index.value, bool))
    ):
        return index.value
    return None


def _path_of(expr: Expr) -> tuple[Name, tuple[str | int, ...]] | None:
    """For a chain of literal accesses rooted at a Name: (root, keys)."""
    if isinstance(expr, Name):
        return expr, ()
    if isinstance(expr, Attr | Index):
        inner = _path_of(expr.obj)
        key = expr.name if isinstance(expr, Attr) else _literal_key(expr.index)
        if inner is None or key is None:
            return None
        return inner[0], (*inner[1], key)
    return None


def references(expr: Expr) -> list[Reference]:
    """Every context path in the expression, each stopped at its first non-literal index."""
    refs: list[Reference] = []
    _collect(expr, refs)
    return sorted(refs, key=lambda r: (r.start, r.end))


def _collect(expr: Expr, refs: list[Reference]) -> None:
    path = _path_of(expr)
    if path is not None:
        root, keys = path
        refs.append(Reference(root.name, keys, root.start, expr.end))
        return
    for child in _children(expr):
        _collect(child, refs)


def status_calls(expr: Expr) -> Iterator[tuple[str, int, int]]:
    """Calls of success()/failure()/always()/cancelled(): (name, start, end), in order."""
    if isinstance(expr, Call) and expr.func in STATUS_FUNCTIONS:
        yield expr.func, expr.start, expr.end
        return
    for child in _children(expr):
        yield from status_calls(child)
