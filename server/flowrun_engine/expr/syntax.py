"""The AST of an expression (frozen dataclasses), the names the language knows, and unparse().

start/end are offsets in the expression text; they do not take part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FUNCTIONS: dict[str, int] = {
    "len": 1,
    "contains": 2,
    "default": 2,
    "json": 1,
    "to_json": 1,
    "success": 0,
    "failure": 0,
    "always": 0,
    "cancelled": 0,
}
# Only meaningful in a node's `when`: they read the node's upstream statuses (GitHub Actions'
# status check functions). A `when` that calls one decides for itself (see flowrun_engine.state).
STATUS_FUNCTIONS: frozenset[str] = frozenset({"success", "failure", "always", "cancelled"})
# The context key holding `{success, failure, cancelled}` for the node whose `when` is
# evaluated; `$` cannot start a name, so no expression can read it directly.
STATUS_KEY = "$status"
CONTEXTS: tuple[str, ...] = ("inputs", "trigger", "nodes", "env", "secrets", "loop")


@dataclass(frozen=True)
class _Span:
    """Where a node stands in the expression text (keywords; not part of equality)."""

    start: int = field(default=0, compare=False, kw_only=True)
    end: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True)
class Const(_Span):
    value: Any


@dataclass(frozen=True)
class Name(_Span):
    name: str


@dataclass(frozen=True)
class Attr(_Span):
    obj: Expr
    name: str


@dataclass(frozen=True)
class Index(_Span):
    obj: Expr
    index: Expr


@dataclass(frozen=True)
class Call(_Span):
    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class ListExpr(_Span):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Unary(_Span):
    op: str  # "-" | "not"
    operand: Expr


@dataclass(frozen=True)
class Binary(_Span):
    op: str  # arithmetic, comparison, "in", "not in", "and", "or"
    left: Expr
    right: Expr


Expr = Const | Name | Attr | Index | Call | ListExpr | Unary | Binary


# --- unparsing (for messages, hover and tests) --------------------------------------------


def unparse(expr: Expr) -> str:
    """Source text for an AST, fully parenthesised; parse(unparse(e)) == e."""
    if isinstance(expr, Const):
        return _unparse_const(expr.value)
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, Attr):
        return f"{unparse(expr.obj)}.{expr.name}"
    if isinstance(expr, Index):
        return f"{unparse(expr.obj)}[{unparse(expr.index)}]"
    if isinstance(expr, Call):
        return f"{expr.func}({', '.join(unparse(a) for a in expr.args)})"
    if isinstance(expr, ListExpr):
        return f"[{', '.join(unparse(i) for i in expr.items)}]"
    if isinstance(expr, Unary):
        return f"({expr.op} {unparse(expr.operand)})"
    return f"({unparse(expr.left)} {expr.op} {unparse(expr.right)})"


def _unparse_const(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + '"'
    text = repr(value)
    return f"({text})" if text.startswith("-") else text
