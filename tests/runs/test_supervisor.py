"""The supervisor against fake engines: real child processes, real pipes, real signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flowrun.runs import containment, process_groups, spawn
from flowrun.runs.launch import (
    EngineLocation,
    LaunchSpec,
    child_environment,
    engine_location,
    new_execution_id,
)
from flowrun.runs.supervisor import ChildState, EngineChild

FAKE = EngineLocation(Path(__file__).parent / "fake_engines" / "fake_engine.py", "fake_engine")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def wait_gone(pids: list[int], seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.pids: list[int] = []
        self.got_log = asyncio.Event()

    async def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event["event"] == "node_log" and event["stream"] == "info":
            self.pids.extend(json.loads(event["text"]))
            self.got_log.set()

    def names(self) -> list[str]:
        return [event["event"] for event in self.events]


def spec(tmp_path: Path, fake: str, **kwargs: Any) -> LaunchSpec:
    payload = {"fake": fake, **kwargs.pop("payload", {})}
    return LaunchSpec(
        python=sys.executable,
        payload=payload,
        execution_id=new_execution_id(),  # unique: ending a run ends every process with its id
        workflow_id="wf",
        cwd=str(tmp_path),
        engine=FAKE,
        **kwargs,
    )


async def test_successful_run_forwards_every_event(tmp_path: Path) -> None:
    recorder = Recorder()
    started: list[int] = []

    async def on_started(pid: int) -> None:
        started.append(pid)

    child = EngineChild(spec(tmp_path, "ok"), on_event=recorder.on_event, on_started=on_started)
    result = await child.run()
    assert result.status == "succeeded"
    assert result.outputs == {"answer": 42}
    assert result.finished_by_engine  # exit code 0, or SIGKILL once it finished
    assert recorder.names() == [
        "execution_started",
        "node_started",
        "node_finished",
        "execution_finished",
    ]
    assert started == [child.pid]
    assert child.state is ChildState.EXITED
    assert child.pid not in process_groups.live_pids()


async def test_child_environment_is_only_what_the_run_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOME_PARENT_VARIABLE", "leak")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    recorder = Recorder()
    launch = spec(tmp_path, "env", env={"LOG_LEVEL": "info"}, secrets={"MY_TOKEN": "s3cr3t-value"})
    result = await EngineChild(launch, on_event=recorder.on_event).run()
    assert result.status == "succeeded"
    outputs = result.outputs
    assert outputs is not None
    env = outputs["env"]
    assert "SOME_PARENT_VARIABLE" not in env
    assert env["LC_ALL"] == "C.UTF-8"
    assert env["LOG_LEVEL"] == "info"
    assert "MY_TOKEN" in outputs["keys"]
    assert env["FLOWRUN_EXECUTION_MODE"] == "test"
    assert env["FLOWRUN_WORKFLOW_ID"] == "wf"
    assert env["FLOWRUN_EXECUTION_ID"] == launch.execution_id
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["TMPDIR"] == env["FLOWRUN_SCRATCH"]
    assert outputs["scratch_mode"] == "0o700"
    assert outputs["fd3_inheritable"] is False
    assert os.path.realpath(outputs["cwd"]) == os.path.realpath(tmp_path)
    # only the scratch folder (holding the engine) is added to the user's path
    scratch = env["PYTHONPATH"]
    assert scratch in outputs["path"]
    assert not any("site-packages" in p and ".venv" in p for p in outputs["path"][:2])
    assert not Path(scratch).exists(), "the scratch folder is removed after the run"
    # the secret's value never reaches an event
    text = json.dumps(recorder.events)
    assert "s3cr3t-value" not in text
    assert "token is ***" in text


def test_child_environment_layers() -> None:
    launch = LaunchSpec(
        python="python3",
        payload={},
        execution_id="x",
        workflow_id="w",
        cwd="/",
        env={"PATH": "/override", "A": "1"},
        secrets={"A": "secret"},
        mode="production",
    )
    env = child_environment(launch, Path("/s"), {"PATH": "/bin", "HOME": "/h", "XDG_X": "1"})
    assert env["PATH"] == "/override" and env["HOME"] == "/h" and env["XDG_X"] == "1"
    assert env["A"] == "secret"
    assert env["FLOWRUN_EXECUTION_MODE"] == "production"
    assert env["PYTHONPATH"] == "/s" and env["TMPDIR"] == "/s/tmp"


def test_engine_location_is_the_installed_package() -> None:
    location = engine_location()
    assert location.module == "flowrun_engine"
    assert (location.path / "__init__.py").is_file()


@pytest.mark.parametrize("fake", ["sleep", "stubborn"])
async def test_stop_kills_the_whole_group(tmp_path: Path, fake: str) -> None:
    recorder = Recorder()
    child = EngineChild(spec(tmp_path, fake), on_event=recorder.on_event, grace=0.5)
    task = asyncio.create_task(child.run())
    await asyncio.wait_for(recorder.got_log.wait(), 30)
    assert child.pid is not None
    pids = [child.pid, *recorder.pids]
    assert all(alive(pid) for pid in pids)
    await child.stop()
    result = await asyncio.wait_for(task, 30)
    assert result.status == "stopped"
    assert result.error is not None and result.error["type"] == "Stopped"
    assert wait_gone(pids) == []
    # the running node is finished as stopped, then the execution
    assert recorder.names()[-2:] == ["node_finished", "execution_finished"]
    assert recorder.events[-2]["status"] == "stopped"
    assert recorder.events[-1]["status"] == "stopped"


async def test_graceful_engine_reports_its_own_stop(tmp_path: Path) -> None:
    recorder = Recorder()
    child = EngineChild(spec(tmp_path, "graceful"), on_event=recorder.on_event, grace=5)
    task = asyncio.create_task(child.run())
    await asyncio.wait_for(recorder.got_log.wait(), 30)
    pids = [child.pid or 0, *recorder.pids]
    await child.stop()
    result = await asyncio.wait_for(task, 30)
    assert result.status == "stopped" and result.finished_by_engine
    assert wait_gone(pids) == []
    assert recorder.names().count("execution_finished") == 1


@pytest.mark.parametrize(("fake", "status"), [("orphan", "succeeded"), ("orphan_crash", "failed")])
async def test_the_run_ends_with_the_engine_not_with_a_descendant_holding_its_pipes(
    tmp_path: Path, fake: str, status: str
) -> None:
    recorder = Recorder()
    result = await EngineChild(spec(tmp_path, fake), on_event=recorder.on_event).run()
    assert result.status == status
    assert recorder.pids and wait_gone(recorder.pids) == [], "the detached sleep was ended"


async def test_stop_before_start_spawns_nothing(tmp_path: Path) -> None:
    recorder = Recorder()
    child = EngineChild(spec(tmp_path, "sleep"), on_event=recorder.on_event)
    await child.stop()
    result = await child.run()
    assert result.status == "stopped"
    assert child.pid is None
    assert recorder.names() == ["execution_finished"]


async def test_crash_fails_the_run_with_exit_code_and_stderr(tmp_path: Path) -> None:
    recorder = Recorder()
    result = await EngineChild(spec(tmp_path, "crash"), on_event=recorder.on_event).run()
    assert result.status == "failed" and not result.finished_by_engine
    assert result.exit_code == 3
    error = result.error
    assert error is not None
    assert error["type"] == "ExecutionError"
    assert "exit code 3" in error["message"]
    assert "engine exploded" in error["message"]
    assert "RuntimeError: engine exploded" in error["traceback"]
    assert recorder.names()[-2:] == ["node_finished", "execution_finished"]
    assert recorder.events[-2]["node"] == "n1"


async def test_crash_with_only_stdout_reports_stdout(tmp_path: Path) -> None:
    result = await EngineChild(spec(tmp_path, "crash_stdout"), on_event=Recorder().on_event).run()
    assert result.error is not None
    assert "exit code 4" in result.error["message"]
    assert result.error["traceback"] == "only stdout says why"


async def test_timeout_backstop_stops_a_stuck_engine(tmp_path: Path) -> None:
    recorder = Recorder()
    launch = spec(tmp_path, "timeout", timeout=0.1)
    child = EngineChild(launch, on_event=recorder.on_event, grace=0.2)
    result = await asyncio.wait_for(child.run(), 30)
    assert result.status == "timed_out"
    assert result.error is not None and result.error["type"] == "ExecutionTimeout"
    assert recorder.events[-1]["status"] == "timed_out"


async def test_flood_of_output_loses_no_event(tmp_path: Path) -> None:
    count = 20000  # 20 MB of log lines
    seen = 0

    async def on_event(event: dict[str, Any]) -> None:
        nonlocal seen
        seen += 1

    launch = spec(tmp_path, "flood", payload={"count": count})
    result = await EngineChild(launch, on_event=on_event).run()
    assert result.status == "succeeded"
    assert seen == count + 3


async def test_bad_lines_are_skipped_and_a_last_line_without_newline_is_read(
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    result = await EngineChild(spec(tmp_path, "garbage"), on_event=recorder.on_event).run()
    assert result.status == "succeeded"
    recorder = Recorder()
    result = await EngineChild(spec(tmp_path, "bigline"), on_event=recorder.on_event).run()
    assert result.status == "succeeded"
    assert len(recorder.events[2]["output"]) == 3_000_000


async def test_a_failing_event_handler_does_not_stall_the_child(tmp_path: Path) -> None:
    async def on_event(event: dict[str, Any]) -> None:
        raise RuntimeError("store is down")

    launch = spec(tmp_path, "flood", payload={"count": 2000})
    result = await asyncio.wait_for(EngineChild(launch, on_event=on_event).run(), 60)
    assert result.status == "succeeded"


async def test_missing_interpreter_raises_oserror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Path] = []
    real = spawn.make_scratch

    def spy(engine: EngineLocation) -> Path:
        made.append(real(engine))
        return made[-1]

    monkeypatch.setattr(spawn, "make_scratch", spy)
    launch = spec(tmp_path, "ok")._replace(python=str(tmp_path / "no-python"))
    with pytest.raises(OSError):
        await EngineChild(launch, on_event=Recorder().on_event).run()
    assert len(made) == 1 and not made[0].exists()


def test_end_live_ends_registered_executions() -> None:
    import subprocess

    process = subprocess.Popen(
        ["sh", "-c", "sleep 300 & echo $!; wait"], start_new_session=True, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    sleeper = int(process.stdout.readline())
    process_groups.add(containment.Scope("x" + new_execution_id(), process.pid, process.pid))
    process_groups.end_live(grace=0.2)
    assert wait_gone([process.pid, sleeper]) == []
    assert process_groups.live() == []


def test_exit_handlers_kill_children_when_the_supervisor_process_dies(tmp_path: Path) -> None:
    import subprocess

    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from flowrun.runs.supervisor import EngineChild\n"
        "from flowrun.runs.launch import LaunchSpec, EngineLocation\n"
        f"fake = EngineLocation(Path({str(FAKE.path)!r}), 'fake_engine')\n"
        "async def on_event(event):\n"
        "    if event['event'] == 'node_log':\n"
        "        print(event['text'], flush=True)\n"
        "async def main():\n"
        f"    spec = LaunchSpec(sys.executable, {{'fake': 'sleep'}}, 'x' * 32, 'w',"
        f" {str(tmp_path)!r},"
        " engine=fake)\n"
        "    child = EngineChild(spec, on_event=on_event)\n"
        "    task = asyncio.create_task(child.run())\n"
        "    await asyncio.sleep(0.2)\n"
        "    print(child.pid, child.scratch, flush=True)\n"
        "    await task\n"
        "asyncio.run(main())\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    lines = [parent.stdout.readline(), parent.stdout.readline()]
    pids = [int(x) for x in json.loads(next(ln for ln in lines if ln.startswith("[")))]
    pid_text, scratch = next(ln for ln in lines if not ln.startswith("[")).split()
    pids.append(int(pid_text))
    assert Path(scratch).is_dir()
    assert all(alive(pid) for pid in pids)
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(20) == -signal.SIGTERM
    assert wait_gone(pids) == []
    assert not Path(scratch).exists()


def test_scratch_of_killed_supervisors_is_removed(tmp_path: Path) -> None:
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / f"flowrun-run-{gone.pid}-abc"
    (stale / "tmp").mkdir(parents=True)
    (stale / "flowrun_engine").symlink_to(tmp_path / "elsewhere")
    live = tmp_path / f"flowrun-run-{os.getpid()}-def"
    live.mkdir()
    other = tmp_path / "flowrun-run-notapid"
    other.mkdir()
    assert process_groups.remove_stale_scratch(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and other.exists()
    assert process_groups.remove_stale_scratch(tmp_path / "missing") == []
    assert process_groups.pid_alive(1)  # init: alive, whoever owns it
