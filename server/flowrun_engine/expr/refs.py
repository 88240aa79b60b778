"""Context references: the paths such as `nodes.fetch.output.x` an expression reads.

The validator uses them to check names (unknown context, unknown node, a node not upstream).
A path is a chain of `.name` and literal `[...]` accesses rooted at a name; it stops at the
first non-literal index, whose own references are collected separately.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flowrun_engine.expr import syntax


@dataclass(frozen=True)
class Reference:
    """A context path used by an expression, e.g. `nodes.fetch.output.x`."""

    context: str
    path: tuple[str | int, ...]
    start: int
    end: int


def _children(expr: syntax.Expr) -> Iterator[syntax.Expr]:
    if isinstance(expr, syntax.Attr):
        yield expr.obj
    elif isinstance(expr, syntax.Index):
        yield expr.obj
        yield expr.index
    elif isinstance(expr, syntax.Call | syntax.ListExpr):
        yield from expr.args if isinstance(expr, syntax.Call) else expr.items
    elif isinstance(expr, syntax.Unary):
        yield expr.operand
    elif isinstance(expr, syntax.Binary):
        yield expr.left
        yield expr.right


def _literal_key(index: syntax.Expr) -> str | int | None:
    if isinstance(index, syntax.Const) and (
        isinstance(index.value, str)
        or (isinstance(index.value, int) and not isinstance(index.value, bool))
    ):
        return index.value
    return None


def _path_of(expr: syntax.Expr) -> tuple[syntax.Name, tuple[str | int, ...]] | None:
    """For a chain of literal accesses rooted at a Name: (root, keys)."""
    if isinstance(expr, syntax.Name):
        return expr, ()
    if isinstance(expr, syntax.Attr | syntax.Index):
        inner = _path_of(expr.obj)
        key = expr.name if isinstance(expr, syntax.Attr) else _literal_key(expr.index)
        if inner is None or key is None:
            return None
        return inner[0], (*inner[1], key)
    return None


def references(expr: syntax.Expr) -> list[Reference]:
    """Every context path in the expression, each stopped at its first non-literal index."""
    refs: list[Reference] = []
    _collect(expr, refs)
    return sorted(refs, key=lambda r: (r.start, r.end))


def _collect(expr: syntax.Expr, refs: list[Reference]) -> None:
    path = _path_of(expr)
    if path is not None:
        root, keys = path
        refs.append(Reference(root.name, keys, root.start, expr.end))
        return
    for child in _children(expr):
        _collect(child, refs)


def status_calls(expr: syntax.Expr) -> Iterator[tuple[str, int, int]]:
    """Calls of success()/failure()/always()/cancelled(): (name, start, end), in order."""
    if isinstance(expr, syntax.Call) and expr.func in syntax.STATUS_FUNCTIONS:
        yield expr.func, expr.start, expr.end
        return
    for child in _children(expr):
        yield from status_calls(child)
