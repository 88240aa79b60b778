"""The HTTP answer of a production execution: outputs, `trigger.response`, or the error.

Errors carry only `{type, message}`: no traceback, no file paths, and no secret value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from flowrun.runs.outcome import RunResult
from flowrun_engine import expr

_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.@~+-]+){2,}[/\\]?")
STATUS_OF = {"timed_out": 504, "stopped": 503, "interrupted": 503}


class Answer:
    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def error_body(kind: str, message: str, execution_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"type": kind, "message": message}}
    if execution_id is not None:
        body = {"executionId": execution_id, **body}
    return body


def clean_message(message: str, secrets: Mapping[str, str]) -> str:
    """The first line of an error message, paths and secret values taken out."""
    text = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    for value in secrets.values():
        if value:
            text = text.replace(value, "***")
    return _PATH.sub("<path>", text)[:500]


def failure(execution_id: str, result: RunResult, secrets: Mapping[str, str]) -> Answer:
    error = result.error if isinstance(result.error, dict) else {}
    kind = str(error.get("type") or "ExecutionError")
    message = clean_message(str(error.get("message") or "the execution failed"), secrets)
    status = STATUS_OF.get(result.status, 500)
    return Answer(status, error_body(kind, message, execution_id), _id_header(execution_id))


def success(
    execution_id: str,
    result: RunResult,
    response: Any,
    context: dict[str, Any],
    secrets: Mapping[str, str],
) -> Answer:
    """200 with the outputs, or what `trigger.response` says (evaluated over `context`)."""
    headers = _id_header(execution_id)
    if response is None:
        return Answer(200, result.outputs or {}, headers)
    try:
        status = _status(expr.render(response.status, context))
        extra = {str(k): expr.to_text(expr.render(v, context)) for k, v in response.headers.items()}
        body = (
            result.outputs or {}
            if "body" not in response.model_fields_set
            else expr.render(response.body, context)
        )
    except (expr.ExprEvalError, expr.ExprSyntaxError, ValueError) as exc:
        message = clean_message(f"trigger.response: {exc}", secrets)
        return Answer(500, error_body("ResponseError", message, execution_id), headers)
    headers.update(extra)
    return Answer(status, _masked(body, secrets), headers)


def _id_header(execution_id: str) -> dict[str, str]:
    """Every answer of an execution names it, success or not, so a client can look it up."""
    return {"X-Flowrun-Execution-Id": execution_id}


def _status(value: Any) -> int:
    status = int(value)
    if not 100 <= status <= 599:
        raise ValueError(f"status {status} is not an HTTP status")
    return status


def _masked(body: Any, secrets: Mapping[str, str]) -> Any:
    values = [v for v in secrets.values() if v]
    if not values:
        return body
    text = json.dumps(body)
    if not any(v in text for v in values):
        return body
    for value in values:
        text = text.replace(json.dumps(value)[1:-1], "***")
    return json.loads(text)
