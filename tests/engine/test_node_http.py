"""The `http` node type against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from pathlib import Path
from typing import Any
from urllib.error import URLError

import pytest
from fakes_net import FakeServer, Recorded, Reply, closed_port, serve

from conftest import Engine, node, workflow
from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError
from flowrun_engine.nodes import _net_http, runner_for
from flowrun_engine.nodes import http as http_node
from flowrun_engine.nodes._net_http import network_error, with_query


def make_ctx(tmp_path: Path, timeout: float = 10.0) -> NodeContext:
    return NodeContext(node_id="fetch", timeout=timeout, cwd=str(tmp_path), env={})


async def run(params: dict[str, Any], tmp_path: Path, timeout: float = 10.0) -> Any:
    ctx = make_ctx(tmp_path, timeout)
    return await http_node.run(params, ctx)


def echo(req: Recorded) -> Reply:
    return Reply(200, {"method": req.method, "path": req.path, "query": req.query})


async def test_get_json_and_log(tmp_path: Path) -> None:
    with serve(echo) as server:
        ctx = make_ctx(tmp_path)
        out = await http_node.run({"url": f"{server.url}/items?a=1"}, ctx)
    assert out["status"] == 200
    assert out["body"] == {"method": "GET", "path": "/items", "query": {"a": ["1"]}}
    assert out["headers"]["content-type"] == "application/json"
    assert all(k == k.lower() for k in out["headers"])
    [(stream, text)] = ctx.logs
    assert stream == "info"
    assert text.startswith(f"GET {server.url}/items?a=1 → 200 (") and text.endswith(" ms)")
    assert server.last.headers["user-agent"] == "flowrun"


async def test_registry_finds_http() -> None:
    assert runner_for("http") is http_node.run


async def test_post_json_query_and_headers(tmp_path: Path) -> None:
    with serve(Reply(201, {"id": 7}, {"Content-Type": "application/json; charset=utf-8"})) as srv:
        out = await run(
            {
                "url": f"{srv.url}/things?x=0",
                "method": "post",
                "headers": {"X-Token": "abc", "X-Count": 3, "X-Missing": None},
                "query": {"q": "a b", "n": 2, "flag": True, "tags": ["t1", "t2"], "skip": None},
                "json": {"name": "é", "list": [1, None]},
            },
            tmp_path,
        )
    req = srv.last
    assert out == {"status": 201, "headers": out["headers"], "body": {"id": 7}}
    assert req.method == "POST"
    assert req.query == {
        "x": ["0"],
        "q": ["a b"],
        "n": ["2"],
        "flag": ["true"],
        "tags": ["t1", "t2"],
    }
    assert req.headers["x-token"] == "abc" and req.headers["x-count"] == "3"
    assert "x-missing" not in req.headers
    assert req.headers["content-type"] == "application/json"
    assert req.json() == {"name": "é", "list": [1, None]}


async def test_raw_body_keeps_given_content_type(tmp_path: Path) -> None:
    with serve(Reply(200, "plain text", {"Content-Type": "text/plain"})) as srv:
        out = await run(
            {"url": srv.url, "method": "PUT", "body": "a=1", "headers": {"content-type": "x/y"}},
            tmp_path,
        )
        assert srv.last.body == b"a=1" and srv.last.headers["content-type"] == "x/y"
        out2 = await run({"url": srv.url, "method": "PATCH", "body": {"k": 1}}, tmp_path)
        assert srv.last.body == b'{"k": 1}'
        out3 = await run(
            {"url": srv.url, "json": [1], "headers": {"Content-Type": "application/vnd+json"}},
            tmp_path,
        )
        assert srv.last.headers["content-type"] == "application/vnd+json"
    assert out["body"] == "plain text" and out2["body"] == "plain text" and out3["status"] == 200


@pytest.mark.parametrize(
    ("reply", "body"),
    [
        (Reply(200, b'{"a": 1}', {"Content-Type": "application/problem+json"}), {"a": 1}),
        (Reply(200, b"not json", {"Content-Type": "application/json"}), "not json"),
        (Reply(200, b"", {"Content-Type": "application/json"}), ""),
        (
            Reply(200, "h\xe9".encode("latin-1"), {"Content-Type": "text/plain; charset=latin-1"}),
            "hé",
        ),
        (Reply(200, b"x", {"Content-Type": "text/plain; charset=nope"}), "x"),
        (Reply(200, b"\xff", {"Content-Type": "application/octet-stream"}), "\ufffd"),
    ],
)
async def test_body_decoding(tmp_path: Path, reply: Reply, body: Any) -> None:
    with serve(reply) as srv:
        out = await run({"url": srv.url}, tmp_path)
    assert out["body"] == body


async def test_repeated_headers_are_joined(tmp_path: Path) -> None:
    reply = Reply(200, "ok", {"X-A": "1"}, repeated=[("Set-Cookie", "a=1"), ("set-cookie", "b=2")])
    with serve(reply) as srv:
        out = await run({"url": srv.url, "method": "DELETE"}, tmp_path)
    assert out["headers"]["x-a"] == "1"
    assert out["headers"]["set-cookie"] == "a=1, b=2"
    assert srv.last.method == "DELETE"


async def test_unexpected_status_fails_with_body_excerpt(tmp_path: Path) -> None:
    body = "upstream down " + "x" * 600
    reply = Reply(503, body, {"Content-Type": "text/plain"})
    with serve(reply) as srv, pytest.raises(NodeError) as info:
        await run({"url": f"{srv.url}/api", "method": "POST", "json": {}}, tmp_path)
    err = info.value
    assert err.type == "HTTPError"
    assert err.message.startswith(f"POST {srv.url}/api returned 503 Service Unavailable: upstream")
    assert err.message.endswith("x…")
    assert len(err.message) < 600 + len(srv.url)
    assert "try again later" in (err.suggestion or "")
    assert err.output["status"] == 503


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "credentials"),
        (403, "credentials"),
        (404, "path"),
        (429, "rate limiting"),
        (400, "rejected the request"),
        (500, "server failed"),
    ],
)
async def test_error_suggestions(tmp_path: Path, status: int, hint: str) -> None:
    with serve(Reply(status, b"")) as srv, pytest.raises(NodeError) as info:
        await run({"url": srv.url}, tmp_path)
    assert hint in (info.value.suggestion or "")
    assert info.value.message.endswith("(empty body)")


@pytest.mark.parametrize(
    ("expect", "status", "ok"),
    [
        (404, 404, True),
        ([200, 404], 404, True),
        ("4xx", 418, True),
        (["2xx", 301], 204, True),
        ("404", 200, False),
        (None, 302, False),
        (None, 299, True),
    ],
)
async def test_expect_status(tmp_path: Path, expect: Any, status: int, ok: bool) -> None:
    with serve(Reply(status, b"")) as srv:
        params = {"url": srv.url, "expect_status": expect}
        if ok:
            assert (await run(params, tmp_path))["status"] == status
        else:
            with pytest.raises(NodeError, match=f"returned {status}"):
                await run(params, tmp_path)


async def test_expected_other_2xx_suggestion(tmp_path: Path) -> None:
    with serve(Reply(200, b"")) as srv, pytest.raises(NodeError) as info:
        await run({"url": srv.url, "expect_status": 201}, tmp_path)
    assert "expects status 201" in (info.value.suggestion or "")


async def test_connection_refused(tmp_path: Path) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}/x"
    with pytest.raises(NodeError) as info:
        await run({"url": url}, tmp_path)
    assert info.value.type == "HTTPError"
    assert info.value.message == (
        f"GET {url} failed: connection refused (nothing is listening at 127.0.0.1:{port})"
    )
    assert "server is running" in (info.value.suggestion or "")


async def test_timeout(tmp_path: Path) -> None:
    with serve(Reply(200, b"late", delay=2.0)) as srv, pytest.raises(NodeError) as info:
        await run({"url": srv.url}, tmp_path, timeout=0.2)
    assert info.value.type == "HTTPError"
    assert "no response within 0.2 s" in info.value.message
    assert "timeout" in (info.value.suggestion or "")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "has no `url`"),
        ({"url": "  "}, "has no `url`"),
        ({"url": "http://x", "json": {}, "body": "b"}, "both `json` and `body`"),
        ({"url": "http://x", "headers": ["a"]}, "`headers` must be a mapping"),
        ({"url": "http://x", "query": "a=1"}, "`query` must be a mapping"),
        ({"url": "http://x", "expect_status": "ok"}, "`expect_status` must be"),
        ({"url": "http://x", "expect_status": [200, True]}, "`expect_status` must be"),
        ({"url": "ftp://x/y"}, "only http:// and https:// URLs"),
        ({"url": "http://127.0.0.1:99999/"}, "failed"),
    ],
)
async def test_bad_parameters(tmp_path: Path, params: dict[str, Any], message: str) -> None:
    with pytest.raises(NodeError, match=message.replace("(", r"\(")):
        await run(params, tmp_path)


def test_with_query() -> None:
    assert with_query("http://h/p", {}) == "http://h/p"
    assert with_query("http://h/p?a=1#f", {"b": "x y"}) == "http://h/p?a=1&b=x+y#f"
    assert with_query("http://h/p", {"n": None}) == "http://h/p"


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (URLError(socket.gaierror(-2, "Name or service not known")), "could not be resolved"),
        (URLError(TimeoutError()), "no response within 5 s"),
        (URLError(ssl.SSLError(1, "bad cert")), "TLS error"),
        (URLError("weird"), "failed: weird"),
        (ConnectionResetError(104, "reset by peer"), "reset by peer"),
    ],
)
def test_network_error_messages(exc: BaseException, message: str) -> None:
    err = network_error("GET", "https://api.example.invalid/x", exc, 5.0)
    assert err.message.startswith("GET https://api.example.invalid/x failed: ")
    assert message in err.message
    assert err.suggestion


async def test_server_fixture_records(tmp_path: Path) -> None:
    server = FakeServer(echo)
    with server:
        await run({"url": server.url + "/a"}, tmp_path)
    assert [r.path for r in server.requests] == ["/a"]


def test_node_timeout_in_a_whole_run(engine: Engine) -> None:
    """A request that hangs fails its node with NodeTimeout; the run ends without waiting for it."""
    release = threading.Event()

    def hang(req: Recorded) -> Reply:
        release.wait(30)
        return Reply(200, b"too late")

    try:
        with serve(hang) as srv:
            run = engine(
                workflow(
                    node("slow", "http", with_={"url": f"{srv.url}/slow"}, timeout=0.5),
                    node("after", with_={"value": "${{ nodes.slow.status }}"}, needs=["slow"]),
                )
            )
            release.set()
    finally:
        release.set()
    assert run.status == "failed"
    finished = run.of("node_finished", "slow")[-1]
    assert finished["status"] == "failed"
    assert finished["error"]["type"] in ("NodeTimeout", "HTTPError")


async def test_big_body_is_cut_and_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_net_http, "MAX_BODY", 4)
    ctx = make_ctx(tmp_path)
    with serve(Reply(200, "0123456789", {"Content-Type": "text/plain"})) as srv:
        out = await http_node.run({"url": srv.url}, ctx)
    assert out["body"] == "0123"
    assert ctx.logs[-1] == ("info", "the response body was cut at 10 MiB")


async def test_cancelled_request_is_left_behind(tmp_path: Path) -> None:
    """A node cancelled mid-request (timeout, stop) returns at once; the late answer is dropped."""
    release = threading.Event()

    def hang(_req: Recorded) -> Reply:
        release.wait(10)
        return Reply(200, b"late")

    with serve(hang) as srv:
        task = asyncio.ensure_future(run({"url": srv.url}, tmp_path))
        while not srv.requests:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        while any(t.name.startswith("flowrun-http") for t in threading.enumerate()):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)
    assert task.cancelled()


async def test_a_secret_at_the_cut_of_the_error_excerpt_is_masked_whole(tmp_path: Path) -> None:
    secret = "s3cr3t-token-value"
    body = "x" * 490 + secret + "y" * 100  # the 500-character excerpt would halve the secret
    reply = Reply(500, body, {"Content-Type": "text/plain"})
    ctx = NodeContext(
        node_id="fetch", timeout=10.0, cwd=str(tmp_path), env={}, secrets={"TOKEN": secret}
    )
    with serve(reply) as srv, pytest.raises(NodeError) as info:
        await http_node.run({"url": f"{srv.url}/api"}, ctx)
    assert "***" in info.value.message
    assert secret[:6] not in info.value.message
