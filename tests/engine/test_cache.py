"""The opt-in result cache: hit, miss, expiry, --no-cache, production, the secret-hash rule."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fakes_net import Reply, chat_completion, serve

from conftest import Engine, EngineRun, node, workflow
from flowrun_engine.cache import CachePolicy, ResultCache, folder_for

KEY = "sk-live-0123456789abcdef"


def fetch(url: str, cache: Any = None, **with_: Any) -> dict[str, Any]:
    return node("fetch", "http", with_={"url": url, **with_}, cache=cache)


def entries(root: Path) -> list[Path]:
    return sorted(Path(folder_for(str(root))).rglob("*.json"))


def run_twice(
    engine: Engine, resolved: dict[str, Any], environ: dict[str, str] | None = None
) -> tuple[EngineRun, EngineRun]:
    return engine(resolved, environ), engine(resolved, environ)


def test_a_hit_reuses_the_result_and_costs_nothing(engine: Engine, tmp_path: Path) -> None:
    with serve(lambda req: Reply(200, chat_completion("cached answer", "gpt-4o-mini"))) as srv:
        ask = node(
            "ask", "llm", cache={"ttl": None, "production": False},
            with_={"provider": "openai", "model": "gpt-4o-mini", "prompt": "hi",
                   "api_key": KEY, "base_url": srv.url},
        )  # fmt: skip
        first, second = run_twice(engine, workflow(ask, cwd=str(tmp_path)))
    assert len(srv.requests) == 1
    [miss] = first.of("node_finished", "ask")
    [hit] = second.of("node_finished", "ask")
    assert "cached" not in miss and miss["metrics"]["llm_calls"] == 1
    assert hit["cached"] is True and hit["attempt"] == 0 and "metrics" not in hit
    assert hit["output"] == miss["output"] and hit["status"] == "succeeded"
    assert not second.of("node_started", "ask")
    [entry] = entries(tmp_path)
    assert KEY not in entry.read_text()  # neither the key nor the request is stored
    assert oct(entry.stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / ".flowrun" / "cache" / ".gitignore").read_text() == "*\n"


def test_a_changed_request_misses(engine: Engine, tmp_path: Path) -> None:
    with serve(Reply(200, {"ok": True})) as srv:
        cache = {"ttl": None, "production": False}
        engine(workflow(fetch(f"{srv.url}/a", cache), cwd=str(tmp_path)))
        engine(workflow(fetch(f"{srv.url}/b", cache), cwd=str(tmp_path)))
        engine(workflow(fetch(f"{srv.url}/a", cache), cwd=str(tmp_path)))
    assert [r.path for r in srv.requests] == ["/a", "/b"]


def test_expiry(engine: Engine, tmp_path: Path) -> None:
    with serve(Reply(200, {"ok": True})) as srv:
        resolved = workflow(fetch(srv.url, {"ttl": 3600.0, "production": False}), cwd=str(tmp_path))
        engine(resolved)
        [entry] = entries(tmp_path)
        stored = json.loads(entry.read_text())
        stored["created_at"] -= 3601  # an hour and a second ago
        entry.write_text(json.dumps(stored))
        expired = engine(resolved)
        fresh = engine(resolved)
    assert len(srv.requests) == 2
    assert "cached" not in expired.of("node_finished", "fetch")[0]
    assert fresh.of("node_finished", "fetch")[0]["cached"] is True


def test_no_cache_neither_reads_nor_writes(engine: Engine, tmp_path: Path) -> None:
    with serve(Reply(200, {"ok": True})) as srv:
        resolved = workflow(fetch(srv.url, {"ttl": None}), cwd=str(tmp_path))
        run_twice(engine, resolved, {"FLOWRUN_NO_CACHE": "1"})
    assert len(srv.requests) == 2 and entries(tmp_path) == []


@pytest.mark.parametrize(("production", "requests"), [(False, 2), (True, 1)])
def test_production_only_when_the_node_says_so(
    engine: Engine, tmp_path: Path, production: bool, requests: int
) -> None:
    with serve(Reply(200, {"ok": True})) as srv:
        resolved = workflow(fetch(srv.url, {"ttl": None, "production": production}),
                            cwd=str(tmp_path))  # fmt: skip
        run_twice(engine, resolved, {"FLOWRUN_EXECUTION_MODE": "production"})
    assert len(srv.requests) == requests


def test_a_failed_node_is_not_stored(engine: Engine, tmp_path: Path) -> None:
    with serve(Reply(500, "down")) as srv:
        run = engine(workflow(fetch(srv.url, {"ttl": None}), cwd=str(tmp_path)))
    assert run.status == "failed" and entries(tmp_path) == []


def test_python_code_is_part_of_the_request(engine: Engine, tmp_path: Path) -> None:
    def calc(code: str) -> dict[str, Any]:
        return node("calc", "python", with_={"code": code, "args": {"x": 2}}, cache={"ttl": None})

    one = "def main(x):\n    return x + 1\n"
    other = "def main(x):\n    return x * 10\n"
    runs = [engine(workflow(calc(code), cwd=str(tmp_path))) for code in (one, other, one)]
    assert [r.output("calc") for r in runs] == [3, 20, 3]
    assert [bool(r.of("node_finished", "calc")[0].get("cached")) for r in runs] == [
        False, False, True
    ]  # fmt: skip


def test_secrets_are_hashed_into_the_key_never_kept(tmp_path: Path) -> None:
    def cache(secret: str) -> ResultCache:
        return ResultCache(str(tmp_path), "wf", {"TOKEN": secret}, enabled=True, mode="test")

    params = {"url": "http://x", "headers": {"Authorization": f"Bearer {KEY}"}}
    key = cache(KEY).key("fetch", "http", params)
    assert key == cache(KEY).key("fetch", "http", params)
    other = {"url": "http://x", "headers": {"Authorization": "Bearer sk-live-rotated-key-99"}}
    assert cache("sk-live-rotated-key-99").key("fetch", "http", other) != key
    # the key is a hash of the request with the secret replaced by its own hash
    hashed = cache(KEY)._hash_secrets(params)
    assert KEY not in json.dumps(hashed) and "<secret sha256:" in json.dumps(hashed)
    store = cache(KEY)
    store.put(key, "fetch", {"status": 200}, None)
    assert store.get(key, CachePolicy(None)) is not None
    assert all(KEY not in p.read_text() for p in Path(tmp_path).rglob("*") if p.is_file())
    assert os.path.basename(folder_for(str(tmp_path), "a/b c")) == "a_b_c"
