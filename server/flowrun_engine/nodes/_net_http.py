"""One HTTP request with urllib, in a worker thread so the event loop stays free.

The thread is a daemon started by hand, not `asyncio.to_thread`: when a node times out or
the run stops, `asyncio.run` must not wait at exit for a request still in flight.

Shared by the `http` and `llm` node types. Any status is a `Response` (4xx/5xx included);
failures to get one (refused, DNS, timeout, TLS) raise `NetworkError` with a message that
names the URL and a suggestion.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import http.client
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

from flowrun_engine import jsonfinite

MAX_BODY = 10 * 1024 * 1024
USER_AGENT = "flowrun"


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    elapsed_ms: int
    truncated: bool = False  # the body was longer than MAX_BODY and was cut there

    @property
    def is_json(self) -> bool:
        content_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        return content_type == "application/json" or content_type.endswith("+json")

    def text(self) -> str:
        charset = _charset(self.headers.get("content-type", ""))
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The parsed body; raises ValueError when it is not JSON."""
        return jsonfinite.loads(self.text())


class NetworkError(Exception):
    """No response: connection refused, unknown host, timeout, TLS failure."""

    def __init__(self, message: str, suggestion: str) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


def status_phrase(status: int, fallback: str = "") -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return fallback


def with_query(url: str, query: dict[str, Any]) -> str:
    """`url` with `query` merged into its query string (lists repeat the key; null is left out)."""
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                pairs.append((str(key), item if isinstance(item, str) else json.dumps(item)))
    if not pairs:
        return url
    parts = urllib.parse.urlsplit(url)
    joined = "&".join(p for p in (parts.query, urllib.parse.urlencode(pairs)) if p)
    return urllib.parse.urlunsplit(parts._replace(query=joined))


async def send(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
) -> Response:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Response] = loop.create_future()

    def deliver(outcome: Response | BaseException) -> None:
        if future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def work() -> None:
        outcome: Response | BaseException
        try:
            outcome = _send(method, url, headers, body, timeout)
        except BaseException as exc:  # delivered to the awaiting coroutine
            outcome = exc
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(deliver, outcome)

    threading.Thread(target=work, name=f"flowrun-http {method} {url}", daemon=True).start()
    return await future


def _send(
    method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
) -> Response:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise NetworkError(
            f"cannot request {url!r}: only http:// and https:// URLs are supported",
            "write the full URL, e.g. https://example.com/path",
        )
    all_headers = {"User-Agent": USER_AGENT, **headers}
    request = urllib.request.Request(url, data=body, headers=all_headers, method=method)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return _response(resp.status, resp.reason, resp.headers, resp, started)
    except urllib.error.HTTPError as exc:
        with exc:
            return _response(exc.code, exc.reason, exc.headers, exc, started)
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise network_error(method, url, exc, timeout) from None


def _response(
    status: int, reason: Any, raw_headers: Message, stream: Any, started: float
) -> Response:
    data = stream.read(MAX_BODY + 1)
    truncated = len(data) > MAX_BODY
    headers: dict[str, str] = {}
    for name, value in raw_headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    elapsed = int((time.monotonic() - started) * 1000)
    reason_text = str(reason or status_phrase(status))
    return Response(status, reason_text, headers, data[:MAX_BODY], elapsed, truncated)


def network_error(method: str, url: str, exc: BaseException, timeout: float) -> NetworkError:
    """A readable NetworkError for what urllib raised while connecting or reading."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    where = f"{method} {url}"
    host = urllib.parse.urlsplit(url).netloc or url
    if isinstance(reason, ConnectionRefusedError):
        return NetworkError(
            f"{where} failed: connection refused (nothing is listening at {host})",
            "check the host and port in the URL, and that the server is running",
        )
    if isinstance(reason, socket.gaierror):
        return NetworkError(
            f"{where} failed: the host name {host!r} could not be resolved",
            "check the host name in the URL and your network connection",
        )
    if isinstance(reason, TimeoutError | socket.timeout):
        return NetworkError(
            f"{where} failed: no response within {timeout:g} s",
            "the server is slow or unreachable: raise the node's `timeout`, or check the server",
        )
    if isinstance(reason, ssl.SSLError | ssl.CertificateError):
        return NetworkError(
            f"{where} failed: TLS error: {reason}",
            "check the URL's scheme (http/https) and the server's certificate",
        )
    return NetworkError(
        f"{where} failed: {reason or type(reason).__name__}",
        "check the URL and your network connection",
    )


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"
