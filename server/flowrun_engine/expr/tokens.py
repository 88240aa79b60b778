r"""The tokenizer: expression text to a list of tokens ending with an "eof" token.

Tokens are numbers, strings (quoted with ' or ", escapes `\n \t \r \\ \' \"`), names,
keywords and operators. Right after a `.`, a name may contain `-` followed by a letter
(`nodes.fetch-data`) and keywords are plain names (`a.in`). `&& || ! =` are syntax errors that
say what to write instead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from flowrun_engine.expr.errors import ExprSyntaxError

_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_WRONG_OPERATORS = {
    "&&": "use `and`",
    "||": "use `or`",
    "!": "use `not`",
    "=": "use `==` to compare",
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True)
class Token:
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


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = _skip_space(text, 0)
    while i < len(text):
        prev = tokens[-1] if tokens else None
        after_dot = prev is not None and prev.kind == "op" and prev.value == "." and prev.end == i
        token = _read_token(text, i, after_dot)
        tokens.append(token)
        i = _skip_space(text, token.end)
    tokens.append(Token("eof", None, len(text), len(text)))
    return tokens


def _skip_space(text: str, i: int) -> int:
    match = _SPACE.match(text, i)
    return match.end() if match else i


def _read_token(text: str, i: int, after_dot: bool) -> Token:
    if match := _NUMBER.match(text, i):
        return _number(text, match)
    if text[i] in _STRING:
        return _read_string(text, i)
    if match := (_DASHED_NAME if after_dot else _NAME).match(text, i):
        word = match.group()
        kind = "kw" if word in _KEYWORDS and not after_dot else "name"
        return Token(kind, word, i, match.end())
    if match := _OPERATOR.match(text, i):
        return Token("op", match.group(), i, match.end())
    if match := _WRONG_OPERATOR.match(text, i):
        wrong = match.group()
        raise ExprSyntaxError(
            f"unknown operator '{wrong}': {_WRONG_OPERATORS[wrong]}", i, len(wrong)
        )
    raise ExprSyntaxError(f"unexpected character {text[i]!r}", i, 1)


def _number(text: str, match: re.Match[str]) -> Token:
    i, j = match.span()
    if _NAME.match(text, j):
        raise ExprSyntaxError(f"invalid number '{text[i : j + 1]}'", i, j + 1 - i)
    raw = match.group()
    value: int | float = float(raw) if match.group(1) or match.group(2) else int(raw)
    if value == math.inf:
        raise ExprSyntaxError(f"the number '{raw}' is too large: JSON has no Infinity", i, j - i)
    return Token("num", value, i, j)


def _read_string(text: str, i: int) -> Token:
    quote = text[i]
    match = _STRING[quote].match(text, i)
    if match is None:
        raise ExprSyntaxError(f"unterminated string: add the closing {quote}", i, len(text) - i)
    value = _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group()), match.group(1))
    return Token("str", value, i, match.end())
