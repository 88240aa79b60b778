"""Scheduler edge cases, in-process: misbehaving node types, cancellation, .env secrets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import fake_nodes
import pytest

from conftest import node, run_inproc, stage, workflow
from flowrun_engine import nodes
from flowrun_engine.attempts import truthy
from flowrun_engine.environment import read_dotenv
from flowrun_engine.events import ListSink
from flowrun_engine.scheduler import Runner


@pytest.fixture(autouse=True)
def fake_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(nodes.REGISTRY, "fake", "fake_nodes")
    monkeypatch.setattr(fake_nodes, "on_run", lambda: None)


@pytest.mark.parametrize(
    ("kind", "type_", "words"),
    [
        ("timeout", "ExecutionError", "failed unexpectedly: TimeoutError"),
        ("bug", "ExecutionError", "failed unexpectedly: RuntimeError: a bug in a node type"),
        ("node", "HTTPError", "refused"),
    ],
)
def test_node_type_failures_are_structured(kind: str, type_: str, words: str) -> None:
    run = run_inproc(workflow(node("f", "fake", with_={"raise": kind})))
    error = run.finished["error"]
    assert error["type"] == type_ and words in error["message"]
    assert error["node"] == "f"


async def test_a_failure_while_stopping_is_stopped() -> None:
    sink = ListSink()
    runner = Runner(workflow(node("f", "fake", with_={"raise": "node"})), sink)
    fake_nodes.on_run = runner.stop
    result = await runner.execute()
    assert result["status"] == "stopped"
    assert sink.of("node_finished")[0]["status"] == "stopped"


async def test_cancelling_execute_from_outside_propagates() -> None:
    runner = Runner(workflow(node("s", "shell", with_={"run": "sleep 30"})), ListSink())
    task = asyncio.create_task(runner.execute())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_loop_without_until_runs_every_iteration() -> None:
    run = run_inproc(
        workflow(
            stages=[
                stage(
                    "again",
                    node("a", with_={"value": "${{ loop.iteration }}"}),
                    loop={"max_iters": 3, "until": None, "fallback": None},
                ),
            ]
        )
    )
    assert run.status == "succeeded"
    assert [e["output"] for e in run.of("node_finished", "a")] == [1, 2, 3]


def test_secrets_from_the_workspace_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# comment\n\nexport DOT_SECRET='from-dotenv'\nOTHER=\"x y\"\nnot a pair\n"
    )
    run = run_inproc(
        workflow(
            node("t", with_={"value": "${{ secrets.DOT_SECRET }}"}),
            node("sh", "shell", with_={"run": "echo $DOT_SECRET | tr a-z A-Z"}),
            secrets=["DOT_SECRET"],
            cwd=str(tmp_path),
        )
    )
    assert run.output("t") == "***"
    assert run.output("sh")["stdout"] == "FROM-DOTENV"
    assert read_dotenv(str(tmp_path / ".env")) == {"DOT_SECRET": "from-dotenv", "OTHER": "x y"}
    assert read_dotenv(str(tmp_path / "missing")) == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("no", False), ("False", False), ("", False), ("yes", True), (0, False), ([1], True)],
)
def test_truthy(value: object, expected: bool) -> None:
    assert truthy(value) is expected
