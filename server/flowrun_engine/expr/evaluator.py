"""The evaluator: an AST and a context mapping to a value, and the built-in functions.

* Missing keys, out-of-range indexes and paths through null give null (so `default()` works).
* `and`/`or` return one of their operands, like Python; `==` never equates booleans and numbers.
* `+` adds numbers and joins two strings or two lists; `< <= > >=` need two numbers or two
  strings; `in` looks in a string, a list or an object's keys.
* Functions: `len contains default json to_json` (arity is checked by the parser), and the
  status functions `success failure always cancelled`, which read `context[STATUS_KEY]` (set
  only while a node's `when` is evaluated).
* A result that is not a finite number (`1e308 * 10`) is an error: JSON has no Infinity/NaN.
* Errors are ExprEvalError, whose messages name types and never values (secrets).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from flowrun_engine import jsonfinite
from flowrun_engine.expr import syntax
from flowrun_engine.expr.errors import ExprEvalError
from flowrun_engine.expr.values import is_number, to_text, type_name


def evaluate(expr: syntax.Expr, context: Mapping[str, Any]) -> Any:
    """Evaluate a parsed expression; missing keys give None; raises ExprEvalError."""
    if isinstance(expr, syntax.Const):
        return expr.value
    if isinstance(expr, syntax.Name):
        return context.get(expr.name)
    if isinstance(expr, syntax.Attr):
        return _get(evaluate(expr.obj, context), expr.name)
    if isinstance(expr, syntax.Index):
        return _get(evaluate(expr.obj, context), evaluate(expr.index, context))
    if isinstance(expr, syntax.ListExpr):
        return [evaluate(item, context) for item in expr.items]
    if isinstance(expr, syntax.Call):
        if expr.func in syntax.STATUS_FUNCTIONS:
            return _status(expr.func, context)
        return _call(expr.func, [evaluate(arg, context) for arg in expr.args])
    if isinstance(expr, syntax.Unary):
        return _unary(expr.op, evaluate(expr.operand, context))
    return _binary(expr, context)


def _get(obj: Any, key: Any) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key) if isinstance(key, str) else None
    if isinstance(obj, list | tuple | str) and isinstance(key, int) and not isinstance(key, bool):
        return obj[key] if -len(obj) <= key < len(obj) else None
    return None


def _unary(op: str, value: Any) -> Any:
    if op == "not":
        return not value
    if not is_number(value):
        raise ExprEvalError(f"cannot negate a {type_name(value)}: '-' needs a number")
    return -value


def _binary(expr: syntax.Binary, context: Mapping[str, Any]) -> Any:
    left = evaluate(expr.left, context)
    if expr.op == "and":
        return evaluate(expr.right, context) if left else left
    if expr.op == "or":
        return left if left else evaluate(expr.right, context)
    right = evaluate(expr.right, context)
    if expr.op in ("==", "!="):
        return _equal(left, right) == (expr.op == "==")
    if expr.op in ("in", "not in"):
        return _contains(right, left, expr.op) == (expr.op == "in")
    if expr.op in ("<", "<=", ">", ">="):
        return _order(expr.op, left, right)
    return _arithmetic(expr.op, left, right)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _contains(container: Any, item: Any, op: str) -> bool:
    if container is None:
        return False
    if isinstance(container, str):
        if not isinstance(item, str):
            raise ExprEvalError(
                f"'{op}' with a string on the right needs a string on the left,"
                f" got a {type_name(item)}"
            )
        return item in container
    if isinstance(container, list | tuple):
        return any(_equal(item, x) for x in container)
    if isinstance(container, Mapping):
        return isinstance(item, str) and item in container
    raise ExprEvalError(
        f"'{op}' needs a string, list or object on the right, got a {type_name(container)}"
    )


def _order(op: str, a: Any, b: Any) -> bool:
    comparable = (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str))
    if not comparable:
        raise ExprEvalError(
            f"cannot compare a {type_name(a)} with a {type_name(b)} using '{op}':"
            " both sides must be numbers or both strings"
        )
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}


def _arithmetic(op: str, a: Any, b: Any) -> Any:
    joinable = op == "+" and (
        (isinstance(a, str) and isinstance(b, str))
        or (isinstance(a, list | tuple) and isinstance(b, list | tuple))
    )
    if joinable:
        return list(a) + list(b) if isinstance(a, list | tuple) else a + b
    if not (is_number(a) and is_number(b)):
        hint = " ('+' joins two strings or two lists; use to_json() to turn a value into text)"
        raise ExprEvalError(
            f"cannot apply '{op}' to a {type_name(a)} and a {type_name(b)}:"
            f" it needs two numbers{hint if op == '+' else ''}"
        )
    try:
        result = _ARITHMETIC[op](a, b)
    except ZeroDivisionError:
        raise ExprEvalError(f"division by zero in '{op}'") from None
    except OverflowError:
        raise ExprEvalError(f"number too large in '{op}'") from None
    if isinstance(result, float) and not math.isfinite(result):
        raise ExprEvalError(f"number too large in '{op}': JSON has no Infinity")
    return result


def _status(func: str, context: Mapping[str, Any]) -> bool:
    if func == "always":
        return True
    status = context.get(syntax.STATUS_KEY)
    if not isinstance(status, Mapping):
        raise ExprEvalError(f"{func}() can only be used in a node's `when`")
    return bool(status.get(func))


def _call(func: str, args: list[Any]) -> Any:
    if func == "default":
        return args[1] if args[0] is None else args[0]
    if func == "len":
        if not isinstance(args[0], str | list | tuple | Mapping):
            raise ExprEvalError(f"len() needs a string, list or object, got a {type_name(args[0])}")
        return len(args[0])
    if func == "contains":
        if isinstance(args[0], str) and not isinstance(args[1], str):
            return to_text(args[1]) in args[0]
        return _contains(args[0], args[1], "contains")
    if func == "to_json":
        try:
            return jsonfinite.dumps(args[0], default=str)
        except ValueError:
            raise ExprEvalError(
                "to_json() got a number JSON cannot write (Infinity or NaN)"
            ) from None
    return _parse_json(args[0])


def _parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        raise ExprEvalError(f"json() needs a string of JSON text, got a {type_name(text)}")
    try:
        return jsonfinite.loads(text)
    except ValueError as exc:
        raise ExprEvalError(f"json() got text that is not valid JSON: {exc}") from None
