"""runs/stopping.py edge cases (the CLI tests cover the usual paths)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowrun.history.store import HistoryStore
from flowrun.runs.stopping import end_processes, group_runs_execution, stop_execution


async def test_owner_that_never_records_the_stop(tmp_path: Path) -> None:
    env = {**os.environ, "FLOWRUN_EXECUTION_ID": "silent"}
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], env=env, start_new_session=True
    )
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    store = await HistoryStore.open(tmp_path / "h.sqlite3")
    try:
        await store.create_execution(
            execution_id="silent", workflow_id="wf", file="/f", trigger=None, inputs=None,
            status="running", owner_pid=owner.pid,
        )  # fmt: skip
        await store.set_process("silent", pgid=child.pid)
        outcome = await stop_execution(store, "silent", grace=1, owner_wait=0.2)
        assert outcome.ok and f"process {owner.pid} will record it" in outcome.message
        child.wait(timeout=30)  # ended (its status may be collected by the stopper)
        assert await store.status_of("silent") == "running"
    finally:
        await store.close()
        for proc in (child, owner):
            proc.kill()
            proc.wait()


async def test_group_helpers_on_missing_processes(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    proc.wait()
    assert await end_processes("no-such-execution", proc.pid, 0.1) == []
    assert group_runs_execution(proc.pid, "x") is False
    fake_proc = tmp_path / "proc"
    (fake_proc / "42").mkdir(parents=True)
    (fake_proc / "42" / "environ").write_bytes(b"A=1\0FLOWRUN_EXECUTION_ID=abc\0")
    assert group_runs_execution(42, "abc", proc=fake_proc)
    assert not group_runs_execution(42, "ab", proc=fake_proc)
