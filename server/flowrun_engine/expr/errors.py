"""The two errors of the expression language: one for bad syntax, one for bad evaluation."""

from __future__ import annotations


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
