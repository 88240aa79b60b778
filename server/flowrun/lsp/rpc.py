"""Every request gets an answer: malformed params of standard requests → -32602 naming the field.

pygls structures a message before it has a handler to answer with; when that fails (hover at
line -1, definition at line "x", documentSymbol {}) it logs the error and drops the request,
so the editor waits forever. Here the request is answered with -32602 instead, and the
message says which field is wrong, in the protocol's camelCase (`params.position.line`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from cattrs import transform_error
from cattrs.errors import ClassValidationError
from cattrs.v import format_exception
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)

_SNAKE = re.compile(r"_([a-z])")


class _Answered:
    """A request that was already answered with an error: nothing more to handle."""

    jsonrpc = "answered"


ANSWERED = _Answered()


class FlowrunProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" not in data or "method" not in data:
                raise  # a notification or a response: there is no one to answer
            message = describe(data["method"], exc.__cause__)
            self._send_response(data["id"], error=JsonRpcInvalidParams(message).to_response_error())
            return ANSWERED

    def handle_message(self, message: Any) -> None:
        if message is not ANSWERED:
            super().handle_message(message)


def describe(method: str, cause: BaseException | None) -> str:
    if isinstance(cause, ClassValidationError):
        problems = transform_error(cause, path="", format_exception=_format)
        where = "; ".join(_camel_path(problem) for problem in problems)
    else:
        where = f"params: {cause}" if cause is not None else "params: invalid"
    return f"Invalid params for {method}: {where}"


def _format(exc: BaseException, type_: Any) -> str:
    base: str = format_exception(exc, type_)
    return f"{base} ({exc})" if isinstance(exc, ValueError) and str(exc) else base


def _camel_path(problem: str) -> str:
    """`invalid value @ .params.text_document` → `params.textDocument: invalid value`."""
    text, _, path = problem.rpartition(" @ ")
    path = _SNAKE.sub(lambda m: m.group(1).upper(), path.lstrip("$."))
    return f"{path or 'params'}: {text}"
