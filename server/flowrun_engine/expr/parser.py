"""The recursive-descent parser: the inner text of one `${{ }}` to an AST; never uses `eval`.

Precedence, loosest first, as in Python: `or`, `and`, `not`, comparisons
(`== != < <= > >= in not in`, not chained), `+ -`, `* / %`, unary `-`, then paths
(`a.b`, `a['b']`, `a[0]`) and calls; list literals `[1, 'a']`. One method per level
(`parse_or` ... `parse_primary`). Function names and arities are checked here, so an unknown
function or a wrong argument count is a syntax error. At most MAX_TOKENS tokens and MAX_DEPTH
levels of nesting, so deep input is a syntax error, never a RecursionError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowrun_engine.expr import syntax
from flowrun_engine.expr.errors import ExprSyntaxError
from flowrun_engine.expr.tokens import Token, tokenize
from flowrun_engine.expr.values import is_number

MAX_DEPTH = 64
MAX_TOKENS = 300  # bounds the AST's depth, so evaluation never hits the recursion limit

_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
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
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at(self, kind: str, value: Any = None) -> bool:
        return self.tok.kind == kind and (value is None or self.tok.value == value)

    def error(self, message: str, tok: Token | None = None) -> ExprSyntaxError:
        tok = tok or self.tok
        if tok.kind == "eof":
            last = self.tokens[self.pos - 1] if self.pos > 0 else tok
            return ExprSyntaxError(
                f"{message}, but the expression ends", last.start, last.end - last.start
            )
        return ExprSyntaxError(
            f"{message}, found '{self.text[tok.start : tok.end]}'", tok.start, tok.end - tok.start
        )

    def expect(self, value: str, opener: Token) -> Token:
        if self.at("op", value):
            return self.advance()
        if self.tok.kind == "eof":
            raise ExprSyntaxError(
                f"'{opener.value}' is never closed: add '{value}'", opener.start, 1
            )
        raise self.error(f"expected '{value}'")

    def parse(self) -> syntax.Expr:
        if self.tok.kind == "eof":
            raise ExprSyntaxError(
                "empty expression: write a value or a path such as inputs.name", 0, len(self.text)
            )
        expr = self.parse_or()
        if self.tok.kind != "eof":
            raise self.error("expected an operator or the end of the expression")
        return expr

    def nested(self, parse: Callable[[], syntax.Expr]) -> syntax.Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested deeper than {MAX_DEPTH} levels")
        try:
            return parse()
        finally:
            self.depth -= 1

    def parse_or(self) -> syntax.Expr:
        return self.left_assoc("kw", ("or",), self.parse_and)

    def parse_and(self) -> syntax.Expr:
        return self.left_assoc("kw", ("and",), self.parse_not)

    def left_assoc(
        self, kind: str, ops: tuple[str, ...], operand: Callable[[], syntax.Expr]
    ) -> syntax.Expr:
        """`operand (op operand)*` for one precedence level, grouped to the left."""
        left = operand()
        while self.tok.kind == kind and self.tok.value in ops:
            op = self.advance().value
            right = operand()
            left = syntax.Binary(op, left, right, start=left.start, end=right.end)
        return left

    def parse_not(self) -> syntax.Expr:
        if self.at("kw", "not"):
            tok = self.advance()
            operand = self.nested(self.parse_not)
            return syntax.Unary("not", operand, start=tok.start, end=operand.end)
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

    def parse_comparison(self) -> syntax.Expr:
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
        return syntax.Binary(op, left, right, start=left.start, end=right.end)

    def parse_additive(self) -> syntax.Expr:
        return self.left_assoc("op", ("+", "-"), self.parse_multiplicative)

    def parse_multiplicative(self) -> syntax.Expr:
        return self.left_assoc("op", ("*", "/", "%"), self.parse_unary)

    def parse_unary(self) -> syntax.Expr:
        if self.at("op", "-"):
            tok = self.advance()
            operand = self.nested(self.parse_unary)
            if isinstance(operand, syntax.Const) and is_number(operand.value):
                return syntax.Const(-operand.value, start=tok.start, end=operand.end)
            return syntax.Unary("-", operand, start=tok.start, end=operand.end)
        return self.parse_postfix()

    def parse_postfix(self) -> syntax.Expr:
        expr = self.parse_primary()
        while True:
            if self.at("op", "."):
                self.advance()
                if self.tok.kind not in ("name", "kw"):
                    raise self.error("expected a name after '.'")
                name = self.advance()
                expr = syntax.Attr(expr, name.value, start=expr.start, end=name.end)
            elif self.at("op", "["):
                opener = self.advance()
                index = self.nested(self.parse_or)
                close = self.expect("]", opener)
                expr = syntax.Index(expr, index, start=expr.start, end=close.end)
            else:
                return expr

    def parse_primary(self) -> syntax.Expr:
        tok = self.tok
        if tok.kind in ("num", "str"):
            self.advance()
            return syntax.Const(tok.value, start=tok.start, end=tok.end)
        if tok.kind == "kw" and tok.value in _CONSTANTS:
            self.advance()
            return syntax.Const(_CONSTANTS[tok.value], start=tok.start, end=tok.end)
        if tok.kind == "name":
            self.advance()
            if self.at("op", "("):
                return self.parse_call(tok)
            return syntax.Name(tok.value, start=tok.start, end=tok.end)
        if self.at("op", "("):
            self.advance()
            inner = self.nested(self.parse_or)
            self.expect(")", tok)
            return inner
        if self.at("op", "["):
            return self.parse_list()
        raise self.error("expected a value")

    def parse_call(self, name: Token) -> syntax.Expr:
        opener = self.advance()
        args = self.parse_items(")", opener)
        close = self.tokens[self.pos - 1]
        arity = syntax.FUNCTIONS.get(name.value)
        if arity is None:
            known = ", ".join(syntax.FUNCTIONS)
            raise ExprSyntaxError(
                f"unknown function '{name.value}': the functions are {known}",
                name.start,
                name.end - name.start,
            )
        if len(args) != arity:
            plural = "" if arity == 1 else "s"
            raise ExprSyntaxError(
                f"{name.value}() takes {arity} argument{plural}, {len(args)} given",
                name.start,
                close.end - name.start,
            )
        return syntax.Call(name.value, tuple(args), start=name.start, end=close.end)

    def parse_list(self) -> syntax.Expr:
        opener = self.advance()
        items = self.parse_items("]", opener)
        return syntax.ListExpr(tuple(items), start=opener.start, end=self.tokens[self.pos - 1].end)

    def parse_items(self, closer: str, opener: Token) -> list[syntax.Expr]:
        items: list[syntax.Expr] = []
        while not self.at("op", closer):
            items.append(self.nested(self.parse_or))
            if not self.at("op", ","):
                break
            self.advance()
        self.expect(closer, opener)
        return items


def parse(text: str) -> syntax.Expr:
    """Parse the inner text of one `${{ }}`; raises ExprSyntaxError."""
    return _Parser(text).parse()
