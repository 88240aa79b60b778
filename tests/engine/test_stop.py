"""Stopping a run: SIGTERM to the child's group or to the engine alone, and Runner.stop()."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest

from conftest import Child, EngineRun, node, workflow
from flowrun_engine.events import ListSink
from flowrun_engine.scheduler import Runner

GRANDCHILD = "sleep 300 & echo $!; wait"


def stoppable() -> dict[str, Any]:
    return workflow(
        node("sh", "shell", with_={"run": GRANDCHILD}),
        node(
            "py",
            "python",
            with_={"code": "import time\ndef main():\n    print('napping')\n    time.sleep(300)"},
        ),
        node("later", needs=["sh"]),
    )


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def assert_stopped(run: EngineRun) -> None:
    assert run.status == "stopped"
    assert run.finished["error"]["type"] == "Stopped"
    assert run.node_status("sh") == "stopped"
    assert run.node_status("py") == "stopped"
    assert run.node_status("later") == "skipped"


@pytest.mark.parametrize("target", ["group", "engine"])
def test_sigterm_stops_the_run_and_its_grandchildren(target: str) -> None:
    child = Child.start(stoppable())
    log = child.wait_for(lambda e: e["event"] == "node_log" and e["node"] == "sh")
    child.wait_for(lambda e: e["event"] == "node_log" and e["node"] == "py")
    pid = int(log["text"])
    assert alive(pid)
    if target == "group":
        os.killpg(child.proc.pid, signal.SIGTERM)  # what the supervisor does
    else:
        os.kill(child.proc.pid, signal.SIGTERM)  # the engine alone: it kills what it started
    run = child.finish()
    assert run.returncode == 0, run.stderr
    assert_stopped(run)
    assert not alive(pid)


async def test_runner_stop_in_process() -> None:
    sink = ListSink()
    runner = Runner(stoppable(), sink)
    task = asyncio.create_task(runner.execute())
    while not any(e["event"] == "node_log" and e["node"] == "sh" for e in sink.events):
        await asyncio.sleep(0.01)
    pid = int(next(e for e in sink.of("node_log") if e["node"] == "sh")["text"])
    runner.stop()
    result = await task
    assert result["status"] == "stopped"
    assert_stopped(EngineRun(sink.events, ""))
    assert not alive(pid)


async def test_stop_before_start() -> None:
    sink = ListSink()
    runner = Runner(workflow(node("a")), sink)
    runner.stop()
    result = await runner.execute()
    assert result["status"] == "stopped"
    assert sink.of("node_finished")[0]["status"] == "skipped"
