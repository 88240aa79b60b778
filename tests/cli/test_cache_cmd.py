"""`cache:` from the command line: ⚡ in the tree, `--no-cache`, `flowrun cache clear`, and the
validator's word on a node type that cannot be cached."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes_net import Reply, serve

from flowrun.spec.models import Node
from flowrun.spec.resolve import _cache

Cli = Callable[..., tuple[int, str, str]]  # the `cli` fixture (conftest.py)

WORKFLOW = """\
version: 1
id: cached
nodes:
  - id: fetch
    type: http
    cache: {cache}
    with:
      url: {url}/doc
"""


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWRUN_NO_CACHE", "")  # restored (absent) after the test
    monkeypatch.chdir(tmp_path)


def test_hit_no_cache_and_clear(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "cached.workflow.yml"
    run = ("run", str(path), "--python", sys.executable)
    with serve(Reply(200, {"ok": True})) as srv:
        path.write_text(WORKFLOW.format(cache="1h", url=srv.url))
        assert cli(*run)[0] == 0
        code, out, err = cli(*run)
        assert code == 0, err
        assert "⚡ cached" in out
        code, out, _ = cli(*run, "--json")
        assert json.loads(out)["children"][0]["cached"] is True
        assert len(srv.requests) == 1
        code, out, _ = cli(*run, "--no-cache", "--json")
        assert json.loads(out)["children"][0]["cached"] is False
        assert len(srv.requests) == 2
        monkeypatch.setenv("FLOWRUN_NO_CACHE", "")  # --no-cache set it for its child
        code, out, _ = cli("cache", "clear", str(path))
        assert code == 0 and out.startswith("Removed 1 cached result of workflow cached")
        assert cli(*run)[0] == 0
        assert len(srv.requests) == 3
    code, out, _ = cli("cache", "clear")
    assert code == 0 and "Removed 1 cached result of all workflows" in out
    assert not (tmp_path / ".flowrun" / "cache").exists()
    code, _, err = cli("cache", "clear", "missing.workflow.yml")
    assert code == 1 and "not a workflow file" in err


def test_cache_only_on_llm_http_python(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "bad.workflow.yml"
    path.write_text("version: 1\nnodes:\n  - id: s\n    type: shell\n    cache: true\n"
                    "    with: {run: echo}\n")  # fmt: skip
    code, out, err = cli("validate", str(path))
    assert code == 1
    assert "`cache` works on llm, http, python nodes only" in out + err


def test_cache_forms_resolve() -> None:
    def resolved(value: object) -> object:
        raw = {"id": "n", "type": "http", "cache": value, "with": {"url": "http://x"}}
        return _cache(Node.model_validate(raw).cache)

    assert resolved(True) == {"ttl": None, "production": False}
    assert resolved(False) is None
    assert resolved("1h") == {"ttl": 3600.0, "production": False}
    assert resolved({"production": True}) == {"ttl": None, "production": True}
    assert resolved({"ttl": "30s"}) == {"ttl": 30.0, "production": False}
