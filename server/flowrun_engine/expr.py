r"""The `${{ expr }}` language: tokenizer, recursive-descent parser, evaluator, rendering.

Shared by the validator (syntax errors with exact offsets, context references) and the
engine (evaluation). Never uses `eval`. Precedence, loosest first, as in Python:
`or`, `and`, `not`, comparisons (`== != < <= > >= in`, not chained), `+ -`, `* / %`,
unary `-`, then paths (`a.b`, `a['b']`, `a[0]`) and calls.

Decisions where the design is silent:
* A path segment after `.` may contain `-` followed by a letter (`nodes.fetch-data.output`),
  so hyphenated node ids work as in GitHub Actions; `a.b - c` and `a.b-1` still subtract.
* Missing keys, out-of-range indexes and paths through null give null (so `default()` works).
* `and`/`or` return one of their operands, like Python; `==` never equates booleans and numbers.
* `render()` keeps the value's type only when the string is exactly one `${{ }}` with nothing
  around it, not even whitespace; any other string is text.
* Also accepted: list literals `[1, 'a']`, `not in`, string escapes `\n \t \\ \' \"`.
  Comparisons do not chain (`1 < x < 3` is a syntax error that says how to write it).
* An expression has at most MAX_TOKENS tokens and MAX_DEPTH levels of nesting, so deep input
  is a syntax error, never a RecursionError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

FUNCTIONS: dict[str, int] = {"len": 1, "contains": 2, "default": 2, "json": 1, "to_json": 1}
CONTEXTS: tuple[str, ...] = ("inputs", "trigger", "nodes", "env", "secrets", "loop")
MAX_DEPTH = 64
MAX_TOKENS = 300  # bounds the AST's depth, so evaluation never hits the recursion limit

_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}
_WRONG_OPERATORS = {
    "&&": "use `and`",
    "||": "use `or`",
    "!": "use `not`",
    "=": "use `==` to compare",
}
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


class ExprSyntaxError(ValueError):
    """A malformed expression; offset/length locate the bad token in the expression text."""

    def __init__(self, message: str, offset: int, length: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.length = length


class ExprEvalError(ValueError):
    """An expression that parsed but cannot be evaluated (a type error, bad JSON, ...).

    Messages name types, never values: a value may be a secret, and a cut-off secret would
    escape redaction.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- AST ----------------------------------------------------------------------------------
# start/end are offsets in the expression text; they do not take part in equality.


@dataclass(frozen=True)
class Const:
    value: Any
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    name: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Attr:
    obj: Expr
    name: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Index:
    obj: Expr
    index: Expr
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Expr, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Unary:
    op: str  # "-" | "not"
    operand: Expr
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    op: str  # arithmetic, comparison, "in", "not in", "and", "or"
    left: Expr
    right: Expr
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


Expr = Const | Name | Attr | Index | Call | ListExpr | Unary | Binary


@dataclass(frozen=True)
class TemplateExpression:
    """One `${{ ... }}` found in a string."""

    start: int
    end: int
    text: str
    text_start: int
    closed: bool


@dataclass(frozen=True)
class Reference:
    """A context path used by an expression, e.g. `nodes.fetch.output.x`."""

    context: str
    path: tuple[str | int, ...]
    start: int
    end: int


# --- tokenizer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "num" | "str" | "name" | "kw" | "op" | "eof"
    value: Any
    start: int
    end: int


_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[^\W\d]\w*")
_DASHED_NAME = re.compile(r"[^\W\d]\w*(?:-[^\W\d]\w*)*")
_OPERATOR = re.compile(r"==|!=|<=|>=|[<>+\-*/%()\[\].,]")
_WRONG_OPERATOR = re.compile(r"&&|\|\||!|=")
_STRING = {q: re.compile(rf"{q}((?:[^{q}\\]|\\.)*){q}", re.DOTALL) for q in "'\""}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = _skip_space(text, 0)
    while i < len(text):
        prev = tokens[-1] if tokens else None
        after_dot = prev is not None and prev.kind == "op" and prev.value == "." and prev.end == i
        token = _read_token(text, i, after_dot)
        tokens.append(token)
        i = _skip_space(text, token.end)
    tokens.append(_Token("eof", None, len(text), len(text)))
    return tokens


def _skip_space(text: str, i: int) -> int:
    match = _SPACE.match(text, i)
    return match.end() if match else i


def _read_token(text: str, i: int, after_dot: bool) -> _Token:
    if match := _NUMBER.match(text, i):
        return _number(text, match)
    if text[i] in _STRING:
        return _read_string(text, i)
    if match := (_DASHED_NAME if after_dot else _NAME).match(text, i):
        word = match.group()
        kind = "kw" if word in _KEYWORDS and not after_dot else "name"
        return _Token(kind, word, i, match.end())
    if match := _OPERATOR.match(text, i):
        return _Token("op", match.group(), i, match.end())
    if match := _WRONG_OPERATOR.match(text, i):
        wrong = match.group()
        raise ExprSyntaxError(
            f"unknown operator '{wrong}': {_WRONG_OPERATORS[wrong]}", i, len(wrong)
        )
    raise ExprSyntaxError(f"unexpected character {text[i]!r}", i, 1)


def _number(text: str, match: re.Match[str]) -> _Token:
    i, j = match.span()
    if _NAME.match(text, j):
        raise ExprSyntaxError(f"invalid number '{text[i : j + 1]}'", i, j + 1 - i)
    raw = match.group()
    value: int | float = float(raw) if match.group(1) or match.group(2) else int(raw)
    return _Token("num", value, i, j)


def _read_string(text: str, i: int) -> _Token:
    quote = text[i]
    match = _STRING[quote].match(text, i)
    if match is None:
        raise ExprSyntaxError(f"unterminated string: add the closing {quote}", i, len(text) - i)
    value = _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group()), match.group(1))
    return _Token("str", value, i, match.end())


# --- parser -------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        if len(self.tokens) > MAX_TOKENS + 1:
            extra = self.tokens[MAX_TOKENS]
            raise ExprSyntaxError(
                f"expression too long (more than {MAX_TOKENS} tokens):"
                " split it, or compute the value in a python node",
                extra.start,
                len(text.rstrip()) - extra.start,
            )
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at(self, kind: str, value: Any = None) -> bool:
        return self.tok.kind == kind and (value is None or self.tok.value == value)

    def error(self, message: str, tok: _Token | None = None) -> ExprSyntaxError:
        tok = tok or self.tok
        if tok.kind == "eof":
            last = self.tokens[self.pos - 1] if self.pos > 0 else tok
            return ExprSyntaxError(
                f"{message}, but the expression ends", last.start, last.end - last.start
            )
        return ExprSyntaxError(
            f"{message}, found '{self.text[tok.start : tok.end]}'", tok.start, tok.end - tok.start
        )

    def expect(self, value: str, opener: _Token) -> _Token:
        if self.at("op", value):
            return self.advance()
        if self.tok.kind == "eof":
            raise ExprSyntaxError(
                f"'{opener.value}' is never closed: add '{value}'", opener.start, 1
            )
        raise self.error(f"expected '{value}'")

    def parse(self) -> Expr:
        if self.tok.kind == "eof":
            raise ExprSyntaxError(
                "empty expression: write a value or a path such as inputs.name", 0, len(self.text)
            )
        expr = self.parse_or()
        if self.tok.kind != "eof":
            raise self.error("expected an operator or the end of the expression")
        return expr

    def nested(self, parse: Callable[[], Expr]) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested deeper than {MAX_DEPTH} levels")
        try:
            return parse()
        finally:
            self.depth -= 1

    def parse_or(self) -> Expr:
        left = self.parse_and()
        while self.at("kw", "or"):
            self.advance()
            right = self.parse_and()
            left = Binary("or", left, right, left.start, right.end)
        return left

    def parse_and(self) -> Expr:
        left = self.parse_not()
        while self.at("kw", "and"):
            self.advance()
            right = self.parse_not()
            left = Binary("and", left, right, left.start, right.end)
        return left

    def parse_not(self) -> Expr:
        if self.at("kw", "not"):
            tok = self.advance()
            operand = self.nested(self.parse_not)
            return Unary("not", operand, tok.start, operand.end)
        return self.parse_comparison()

    def at_comparison(self) -> bool:
        nxt = self.tokens[min(self.pos + 1, len(self.tokens) - 1)]
        return (
            (self.tok.kind == "op" and self.tok.value in _COMPARISONS)
            or self.at("kw", "in")
            or (self.at("kw", "not") and nxt.kind == "kw" and nxt.value == "in")
        )

    def comparison_op(self) -> str | None:
        if not self.at_comparison():
            return None
        tok = self.advance()
        if tok.value == "not":
            self.advance()
            return "not in"
        return str(tok.value)

    def parse_comparison(self) -> Expr:
        left = self.parse_additive()
        op = self.comparison_op()
        if op is None:
            return left
        right = self.parse_additive()
        if self.at_comparison():
            raise ExprSyntaxError(
                "comparisons cannot be chained: write `a < b and b < c`",
                self.tok.start,
                self.tok.end - self.tok.start,
            )
        return Binary(op, left, right, left.start, right.end)

    def parse_additive(self) -> Expr:
        left = self.parse_multiplicative()
        while self.tok.kind == "op" and self.tok.value in ("+", "-"):
            op = self.advance().value
            right = self.parse_multiplicative()
            left = Binary(op, left, right, left.start, right.end)
        return left

    def parse_multiplicative(self) -> Expr:
        left = self.parse_unary()
        while self.tok.kind == "op" and self.tok.value in ("*", "/", "%"):
            op = self.advance().value
            right = self.parse_unary()
            left = Binary(op, left, right, left.start, right.end)
        return left

    def parse_unary(self) -> Expr:
        if self.at("op", "-"):
            tok = self.advance()
            operand = self.nested(self.parse_unary)
            if isinstance(operand, Const) and _is_number(operand.value):
                return Const(-operand.value, tok.start, operand.end)
            return Unary("-", operand, tok.start, operand.end)
        return self.parse_postfix()

    def parse_postfix(self) -> Expr:
        expr = self.parse_primary()
        while True:
            if self.at("op", "."):
                self.advance()
                if self.tok.kind not in ("name", "kw"):
                    raise self.error("expected a name after '.'")
                name = self.advance()
                expr = Attr(expr, name.value, expr.start, name.end)
            elif self.at("op", "["):
                opener = self.advance()
                index = self.nested(self.parse_or)
                close = self.expect("]", opener)
                expr = Index(expr, index, expr.start, close.end)
            else:
                return expr

    def parse_primary(self) -> Expr:
        tok = self.tok
        if tok.kind in ("num", "str"):
            self.advance()
            return Const(tok.value, tok.start, tok.end)
        if tok.kind == "kw" and tok.value in _CONSTANTS:
            self.advance()
            return Const(_CONSTANTS[tok.value], tok.start, tok.end)
        if tok.kind == "name":
            self.advance()
            if self.at("op", "("):
                return self.parse_call(tok)
            return Name(tok.value, tok.start, tok.end)
        if self.at("op", "("):
            self.advance()
            inner = self.nested(self.parse_or)
            self.expect(")", tok)
            return inner
        if self.at("op", "["):
            return self.parse_list()
        raise self.error("expected a value")

    def parse_call(self, name: _Token) -> Expr:
        opener = self.advance()
        args = self.parse_items(")", opener)
        close = self.tokens[self.pos - 1]
        arity = FUNCTIONS.get(name.value)
        if arity is None:
            known = ", ".join(FUNCTIONS)
            raise ExprSyntaxError(
                f"unknown function '{name.value}': the functions are {known}",
                name.start,
                name.end - name.start,
            )
        if len(args) != arity:
            plural = "s" if arity > 1 else ""
            raise ExprSyntaxError(
                f"{name.value}() takes {arity} argument{plural}, {len(args)} given",
                name.start,
                close.end - name.start,
            )
        return Call(name.value, tuple(args), name.start, close.end)

    def parse_list(self) -> Expr:
        opener = self.advance()
        items = self.parse_items("]", opener)
        return ListExpr(tuple(items), opener.start, self.tokens[self.pos - 1].end)

    def parse_items(self, closer: str, opener: _Token) -> list[Expr]:
        items: list[Expr] = []
        while not self.at("op", closer):
            items.append(self.nested(self.parse_or))
            if not self.at("op", ","):
                break
            self.advance()
        self.expect(closer, opener)
        return items


def parse(text: str) -> Expr:
    """Parse the inner text of one `${{ }}`; raises ExprSyntaxError."""
    return _Parser(text).parse()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- finding expressions in strings -------------------------------------------------------


def _find_close(s: str, i: int) -> int:
    """Index of the `}}` closing an expression whose text starts at i, or -1.

    `}}` inside a string literal does not close; if a literal never ends, the first `}}` does.
    """
    j = i
    while j < len(s):
        ch = s[j]
        if ch in "'\"":
            k = j + 1
            while k < len(s) and s[k] != ch:
                k += 2 if s[k] == "\\" else 1
            if k >= len(s):
                return s.find("}}", i)
            j = k + 1
        elif s.startswith("}}", j):
            return j
        else:
            j += 1
    return -1


def find_expressions(s: str) -> list[TemplateExpression]:
    found: list[TemplateExpression] = []
    i = s.find("${{")
    while i != -1:
        text_start = i + 3
        close = _find_close(s, text_start)
        if close == -1:
            found.append(TemplateExpression(i, len(s), s[text_start:], text_start, False))
            break
        found.append(TemplateExpression(i, close + 2, s[text_start:close], text_start, True))
        i = s.find("${{", close + 2)
    return found


# --- references ---------------------------------------------------------------------------


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


# --- evaluation ---------------------------------------------------------------------------


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def evaluate(expr: Expr, context: Mapping[str, Any]) -> Any:
    """Evaluate a parsed expression; missing keys give None; raises ExprEvalError."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Name):
        return context.get(expr.name)
    if isinstance(expr, Attr):
        return _get(evaluate(expr.obj, context), expr.name)
    if isinstance(expr, Index):
        return _get(evaluate(expr.obj, context), evaluate(expr.index, context))
    if isinstance(expr, ListExpr):
        return [evaluate(item, context) for item in expr.items]
    if isinstance(expr, Call):
        return _call(expr.func, [evaluate(arg, context) for arg in expr.args])
    if isinstance(expr, Unary):
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
    if not _is_number(value):
        raise ExprEvalError(f"cannot negate a {type_name(value)}: '-' needs a number")
    return -value


def _binary(expr: Binary, context: Mapping[str, Any]) -> Any:
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
    comparable = (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))
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
    if not (_is_number(a) and _is_number(b)):
        hint = " ('+' joins two strings or two lists; use to_json() to turn a value into text)"
        raise ExprEvalError(
            f"cannot apply '{op}' to a {type_name(a)} and a {type_name(b)}:"
            f" it needs two numbers{hint if op == '+' else ''}"
        )
    try:
        return _ARITHMETIC[op](a, b)
    except ZeroDivisionError:
        raise ExprEvalError(f"division by zero in '{op}'") from None
    except OverflowError:
        raise ExprEvalError(f"number too large in '{op}'") from None


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
        return json.dumps(args[0], default=str)
    return _parse_json(args[0])


def _parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        raise ExprEvalError(f"json() needs a string of JSON text, got a {type_name(text)}")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ExprEvalError(f"json() got text that is not valid JSON: {exc}") from None


# --- rendering ----------------------------------------------------------------------------


def to_text(value: Any) -> str:
    """How a value is written into text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Evaluate every `${{ }}` in a value, walking dicts and lists."""
    if isinstance(value, str):
        return _render_string(value, context)
    if isinstance(value, Mapping):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render(item, context) for item in value]
    return value


def _evaluate_template(template: TemplateExpression, context: Mapping[str, Any]) -> Any:
    if not template.closed:
        raise ExprSyntaxError("'${{' is never closed: add '}}'", 0, len(template.text))
    expr = parse(template.text)
    try:
        return evaluate(expr, context)
    except ExprEvalError as exc:
        raise ExprEvalError(f"{exc.message} (in ${{{{ {template.text.strip()} }}}})") from None


def _render_string(s: str, context: Mapping[str, Any]) -> Any:
    templates = find_expressions(s)
    if not templates:
        return s
    if len(templates) == 1 and templates[0].start == 0 and templates[0].end == len(s):
        return _evaluate_template(templates[0], context)
    parts: list[str] = []
    pos = 0
    for template in templates:
        parts.append(s[pos : template.start])
        parts.append(to_text(_evaluate_template(template, context)))
        pos = template.end
    parts.append(s[pos:])
    return "".join(parts)


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
