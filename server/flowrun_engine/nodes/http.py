"""`http`: one HTTP request. Output `{status, headers, body}`; JSON bodies are parsed.

`expect_status` is an int, a list of ints, or a pattern such as `"2xx"`/`"4xx"` (default:
any 2xx). A status outside it fails the node with `HTTPError`; the response is kept as the
failed node's output so it can be inspected. Headers whose value is null are not sent;
`query` values are written like interpolated text (lists repeat the key, null is left out).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError, execution_error
from flowrun_engine.expr import to_text
from flowrun_engine.nodes._net_http import (
    MAX_BODY,
    NetworkError,
    Response,
    send,
    status_phrase,
    with_query,
)

BODY_IN_ERROR = 500
_STATUS_PATTERN = re.compile(r"[1-5](?:xx|\d\d)")


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    method = str(params.get("method") or "GET").upper()
    url = _url(params, ctx.node_id)
    raw_headers = _mapping(params, "headers", ctx.node_id)
    headers = {str(k): to_text(v) for k, v in raw_headers.items() if v is not None}
    body = _body(params, headers, ctx.node_id)
    accepted = _expected(params.get("expect_status"), ctx.node_id)
    try:
        response = await send(method, url, headers=headers, body=body, timeout=ctx.timeout)
    except NetworkError as exc:
        raise NodeError("HTTPError", exc.message, suggestion=exc.suggestion) from None
    ctx.log("info", f"{method} {url} → {response.status} ({response.elapsed_ms} ms)")
    ctx.metrics.add_http(response.status, len(response.body))
    if response.truncated:
        ctx.log("info", f"the response body was cut at {MAX_BODY // (1024 * 1024)} MiB")
    output = {"status": response.status, "headers": response.headers, "body": _parse_body(response)}
    if not _accepts(accepted, response.status):
        raise NodeError(
            "HTTPError",
            _status_message(method, url, response, ctx.redact),
            suggestion=_suggestion(response.status, accepted),
            output=output,
        )
    return output


def _mapping(params: dict[str, Any], key: str, node_id: str) -> dict[str, Any]:
    value = params.get(key) or {}
    if not isinstance(value, dict):
        raise execution_error(
            f"node `{node_id}`: `{key}` must be a mapping of names to values, got {to_text(value)}",
            f"write `{key}: {{name: value}}`",
        )
    return value


def _url(params: dict[str, Any], node_id: str) -> str:
    url = params.get("url")
    if not isinstance(url, str) or not url.strip():
        raise execution_error(
            f"node `{node_id}` has no `url`",
            "set `url` to the full address, e.g. https://example.com/api",
        )
    return with_query(url.strip(), _mapping(params, "query", node_id))


def _body(params: dict[str, Any], headers: dict[str, str], node_id: str) -> bytes | None:
    has_json, has_body = params.get("json") is not None, params.get("body") is not None
    if has_json and has_body:
        raise execution_error(
            f"node `{node_id}` has both `json` and `body`",
            "use `json` for a JSON payload or `body` for raw text, not both",
        )
    if has_json:
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
        return json.dumps(params["json"], allow_nan=False).encode()
    if has_body:
        return to_text(params["body"]).encode()
    return None


def _expected(value: Any, node_id: str) -> list[str]:
    """Accepted statuses as patterns: "200", "2xx"."""
    items = value if isinstance(value, list) else [value]
    if value is None:
        return ["2xx"]
    patterns = [str(item).lower() for item in items if not isinstance(item, bool)]
    if len(patterns) != len(items) or not all(_STATUS_PATTERN.fullmatch(p) for p in patterns):
        raise execution_error(
            f"node `{node_id}`: `expect_status` must be a status code, a list of them, or"
            f" a pattern like '2xx'; got {to_text(value)}",
            "for example `expect_status: [200, 404]` or `expect_status: 2xx`",
        )
    return patterns


def _accepts(patterns: list[str], status: int) -> bool:
    code = str(status)
    return any(p == code or (p.endswith("xx") and code.startswith(p[0])) for p in patterns)


def _parse_body(response: Response) -> Any:
    if not response.body:
        return ""
    if response.is_json:
        try:
            return response.json()
        except ValueError:
            return response.text()
    return response.text()


def _status_message(method: str, url: str, response: Response, redact: Callable[[str], str]) -> str:
    phrase = status_phrase(response.status, response.reason)
    text = redact(response.text().strip())
    tail = "…" if len(text) > BODY_IN_ERROR else ""
    detail = f": {text[:BODY_IN_ERROR]}{tail}" if text else " (empty body)"
    return f"{method} {url} returned {response.status} {phrase}{detail}"


def _suggestion(status: int, accepted: list[str]) -> str:
    if 200 <= status < 300:
        return (
            f"the node expects status {', '.join(accepted)}: change `expect_status` or the request"
        )
    if status in (401, 403):
        return "the server refused the credentials: check the Authorization header or API key"
    if status == 404:
        return "check the URL's path (and the method)"
    if status == 429:
        return "the server is rate limiting: wait, or add `retry:` with a backoff to the node"
    if status >= 500:
        return "the server failed: try again later, or add `retry:` to the node"
    return "the server rejected the request: check the method, headers, query and body"
