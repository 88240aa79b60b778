"""`flowrun init` and `flowrun list`, through `main()` on real folders and a real history."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowrun.cli.starter import STARTER
from flowrun.validate import validate_text

Cli = Callable[..., tuple[int, str, str]]  # the `cli` fixture (conftest.py)


def test_the_starter_validates_without_any_diagnostic(tmp_path: Path) -> None:
    result = validate_text(STARTER, tmp_path / "hello.workflow.yml")
    assert result.workflow is not None
    assert [(d.code, d.message) for d in result.diagnostics] == []


def test_init_writes_a_starter_that_runs_offline(tmp_path: Path, cli: Cli) -> None:
    project = tmp_path / "project"
    code, out, _ = cli("init", str(project))
    assert code == 0 and "Next: flowrun run" in out
    assert (project / ".gitignore").read_text().splitlines()[-2:] == [".flowrun/", ".env"]
    assert "# MY_API_TOKEN=" in (project / ".env.example").read_text()
    (project / ".git").mkdir()
    starter = project / "hello.workflow.yml"
    code, out, err = cli("run", str(starter), "--json", "-i", "who=Ada", "--python", sys.executable)
    assert code == 0, err
    assert json.loads(out)["outputs"] == {
        "greeting": "Hello, Ada!", "words": 2, "shouted": "HELLO, ADA!"
    }  # fmt: skip


def test_init_never_overwrites_and_lists_declared_secrets(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "hello.workflow.yml").write_text("mine\n")
    (tmp_path / ".gitignore").write_text("node_modules/\n.env")
    (tmp_path / "deploy.workflow.yml").write_text(
        "version: 1\nsecrets: [DEPLOY_TOKEN, GROQ_API_KEY]\nnodes: [{id: a, type: transform}]\n"
    )
    code, out, _ = cli("init", str(tmp_path))
    assert code == 0
    assert "kept     " in out and (tmp_path / "hello.workflow.yml").read_text() == "mine\n"
    gitignore = (tmp_path / ".gitignore").read_text()
    assert gitignore.startswith("node_modules/\n.env\n") and gitignore.count(".env") == 1
    assert gitignore.endswith(".flowrun/\n")
    example = (tmp_path / ".env.example").read_text()
    assert example.splitlines()[-2:] == ["DEPLOY_TOKEN=", "GROQ_API_KEY="]
    (tmp_path / ".env.example").write_text("edited\n")
    code, out, _ = cli("init", str(tmp_path))
    assert (tmp_path / ".env.example").read_text() == "edited\n"
    assert (tmp_path / ".gitignore").read_text() == gitignore
    (tmp_path / "afile").write_text("")
    code, _, err = cli("init", str(tmp_path / "afile"))
    assert code == 2 and "is not a folder" in err


def test_list_shows_triggers_last_runs_and_success_rates(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    for folder, run in (("a", "exit 0"), ("b", "exit 1")):  # the same stem in two folders
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "deploy.workflow.yml").write_text(
            f"version: 1\nnodes:\n  - {{id: go, type: shell, with: {{run: '{run}'}}}}\n"
        )
    (tmp_path / "hook.workflow.yml").write_text(
        "version: 1\ntrigger: {type: http, method: POST, path: /hook}\n"
        "nodes: [{id: a, type: nope}]\n"
    )
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.workflow.yml").write_text("version: 1\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("list", "--json")
    assert code == 0
    assert [w["runs"] for w in json.loads(out)["workflows"]] == [0, 0, 0]
    for _ in range(2):
        cli("run", "a/deploy.workflow.yml", "--json", "--python", sys.executable)
    cli("run", "b/deploy.workflow.yml", "--json", "--python", sys.executable)
    code, out, _ = cli("list", "--json")
    listed: dict[str, Any] = {w["file"]: w for w in json.loads(out)["workflows"]}
    assert list(listed) == ["hook.workflow.yml", "a/deploy.workflow.yml", "b/deploy.workflow.yml"]
    a, b, hook = (
        listed["a/deploy.workflow.yml"],
        listed["b/deploy.workflow.yml"],
        listed["hook.workflow.yml"],
    )
    assert (a["runs"], a["successRate"], a["lastRun"]["status"]) == (2, 1.0, "succeeded")
    assert (b["runs"], b["successRate"], b["lastRun"]["status"]) == (1, 0.0, "failed")
    assert hook["trigger"] == {"type": "http", "method": "POST", "path": "/hook"}
    assert hook["errors"] == 1 and hook["lastRun"] is None and hook["successRate"] is None
    code, out, _ = cli("list")
    assert code == 0
    assert "http POST /hook" in out and "never run" in out and "invalid" in out
    assert "100% of 2" in out and "0% of 1" in out


def test_list_of_an_empty_folder(tmp_path: Path, cli: Cli) -> None:
    code, out, _ = cli("list", str(tmp_path))
    assert code == 0 and "flowrun init" in out
