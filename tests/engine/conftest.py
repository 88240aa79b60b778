"""Engine test helpers: build resolved workflows and run them in-process or as a real child.

The `engine` fixture is parametrized over both ways (Hamilton style): the same scenario runs
through `run_workflow` with a ListSink and through `python -m flowrun_engine` with fd 3.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from flowrun_engine.context import NodeContext
from flowrun_engine.events import ListSink
from flowrun_engine.scheduler import run_workflow

SERVER_DIR = Path(__file__).resolve().parents[2] / "server"


def node_context(tmp_path: Path, env: dict[str, str] | None = None) -> NodeContext:
    """What a node type's `run` is given, for calling it alone: node `n`, 10 s to run, the
    test's folder as cwd, `env` as the environment."""
    return NodeContext(node_id="n", timeout=10.0, cwd=str(tmp_path), env=env or {})


def node(node_id: str, type: str = "transform", **kw: Any) -> dict[str, Any]:
    params = kw.pop("with_", None)
    retry = {"attempts": 1, "backoff": 1.0, "factor": 2.0, "max_delay": 30.0, **kw.pop("retry", {})}
    base: dict[str, Any] = {
        "id": node_id,
        "type": type,
        "name": None,
        "needs": [],
        "when": None,
        "with": params if params is not None else {"value": node_id},
        "timeout": 60.0,
        "retry": retry,
        "on_failure": "stop",
        "has_pin": False,
        "pin": None,
    }
    base.update(kw)
    return base


def stage(
    stage_id: str | None,
    *nodes: dict[str, Any],
    mode: str = "sequential",
    loop: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {"id": stage_id, "mode": mode, "on_failure": None, "loop": loop, "nodes": list(nodes)}


def workflow(
    *nodes: dict[str, Any],
    stages: list[dict[str, Any]] | None = None,
    outputs: dict[str, Any] | None = None,
    secrets: list[str] | None = None,
    env: dict[str, str] | None = None,
    inputs: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
    cwd: str | None = None,
    file: str = "/ws/demo.workflow.yml",
    **options: Any,
) -> dict[str, Any]:
    return {
        "workflow": {
            "id": "demo",
            "name": None,
            "file": file,
            "env": env or {},
            "secrets": secrets or [],
            "outputs": outputs or {},
            "stages": stages if stages is not None else [stage(None, *nodes, mode="parallel")],
        },
        "inputs": inputs or {},
        "trigger": trigger
        or {"method": "POST", "path": "/", "headers": {}, "query": {}, "body": {}},
        "options": {
            "max_parallel": 16,
            "timeout": 600.0,
            "given_outputs": {},
            "cwd": cwd or os.getcwd(),
            **options,
        },
    }


@dataclass
class EngineRun:
    events: list[dict[str, Any]]
    raw: str
    returncode: int = 0
    stderr: str = ""

    @property
    def finished(self) -> dict[str, Any]:
        return next(e for e in self.events if e["event"] == "execution_finished")

    @property
    def status(self) -> str:
        return str(self.finished["status"])

    def of(self, name: str, node: str | None = None) -> list[dict[str, Any]]:
        return [
            e for e in self.events if e["event"] == name and (node is None or e.get("node") == node)
        ]

    def node_status(self, node_id: str) -> str:
        return str(self.of("node_finished", node_id)[-1]["status"])

    def output(self, node_id: str) -> Any:
        return self.of("node_finished", node_id)[-1]["output"]

    def logs(self, node_id: str) -> list[str]:
        return [e["text"] for e in self.of("node_log", node_id)]


def child_env(environ: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, **(environ or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(SERVER_DIR), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    return env


@dataclass
class Child:
    """A real `python -m flowrun_engine` with fd 3 read line by line in a thread."""

    proc: subprocess.Popen[bytes]
    lines: list[str] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _reader: threading.Thread | None = None

    @classmethod
    def start(cls, resolved: dict[str, Any], environ: dict[str, str] | None = None) -> Child:
        read_fd, write_fd = os.pipe()
        proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" -m flowrun_engine 3>&{write_fd}', sys.executable],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            env=child_env(environ),
            start_new_session=True,
        )
        os.close(write_fd)
        child = cls(proc)
        child._reader = threading.Thread(target=child._read, args=(read_fd,), daemon=True)
        child._reader.start()
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(resolved).encode())
        proc.stdin.close()
        proc.stdin = None
        return child

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "r", encoding="utf-8") as f:
            for line in f:
                with self._cond:
                    self.lines.append(line)
                    self._cond.notify_all()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        with self._cond:
            found: list[dict[str, Any]] = []

            def seen() -> bool:
                found[:] = [e for e in map(json.loads, self.lines) if predicate(e)]
                return bool(found)

            assert self._cond.wait_for(seen, timeout), f"event not seen; got {self.lines}"
            return found[0]

    def finish(self, timeout: float = 60) -> EngineRun:
        _, stderr = self.proc.communicate(timeout=timeout)
        assert self._reader is not None
        self._reader.join(timeout)
        raw = "".join(self.lines)
        return EngineRun(
            [json.loads(line) for line in self.lines],
            raw,
            self.proc.returncode,
            stderr.decode(errors="replace"),
        )


def run_inproc(resolved: dict[str, Any], environ: dict[str, str] | None = None) -> EngineRun:
    sink = ListSink()
    saved = dict(os.environ)
    os.environ.update(environ or {})  # as the supervisor does for the child
    try:
        asyncio.run(run_workflow(resolved, sink, environ=dict(os.environ)))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    raw = "".join(json.dumps(e) + "\n" for e in sink.events)
    return EngineRun(sink.events, raw)


def run_child(resolved: dict[str, Any], environ: dict[str, str] | None = None) -> EngineRun:
    run = Child.start(resolved, environ).finish()
    assert run.returncode == 0, run.stderr
    return run


Engine = Callable[..., EngineRun]


@pytest.fixture(params=["inproc", "child"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield run_inproc if request.param == "inproc" else run_child
