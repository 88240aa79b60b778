"""Issue 12's containment matrix: 8 escape styles x every way a run ends, 0 survivors by pid.

One real run per way to end it (`flowrun run` or the `flowrun lsp` daemon as real
processes), holding all eight escape styles at once (`escapes.py`). Each escaping process
wrote its pid; after the end, every one of them must be gone, and the command that ended
the run must have returned without waiting for them (they sleep for 300 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from containment.conftest import MATRIX
from containment.daemon import Daemon
from containment.escapes import STYLES, workflow

pytestmark = pytest.mark.timeout(240)

STARTED = 90.0  # for the escapes to write their pids (the machine may be loaded)
GONE = 20.0  # for the survivors to go: the grace (3 s) plus an engine's own stop
PROMPT = 60.0  # "returned without waiting": far below the orphans' 300 s


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        return False


class Run:
    """The workspace of one cell row: the file, the pid folder, what ran it."""

    def __init__(self, folder: Path, *, hold: bool, node_timeout: str | None = None) -> None:
        (folder / ".git").mkdir()
        self.folder = folder
        self.pids_dir = folder / "pids"
        self.pids_dir.mkdir()
        self.file = folder / "escape.workflow.yml"
        self.file.write_text(workflow(self.pids_dir, hold=hold, node_timeout=node_timeout))
        self.db = folder / ".flowrun" / "history.sqlite3"
        self.cli: subprocess.Popen[bytes] | None = None

    def flowrun(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "flowrun", *args]

    def start_cli(self, *extra: str) -> subprocess.Popen[bytes]:
        argv = self.flowrun("run", str(self.file), "--json", "--db", str(self.db), *extra)
        self.cli = subprocess.Popen(
            argv, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return self.cli

    def wait_for_pids(self) -> dict[str, int]:
        deadline = time.monotonic() + STARTED
        while time.monotonic() < deadline:
            found = self.pids()
            if len(found) == len(STYLES):
                return found
            if self.cli is not None and self.cli.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"the escapes did not all start: {sorted(self.pids_dir.iterdir())}")

    def pids(self) -> dict[str, int]:
        return {p.name: int(p.read_text()) for p in self.pids_dir.iterdir() if p.suffix != ".tmp"}

    def execution_id(self, pid: int) -> str:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        for entry in environ:
            if entry.startswith(b"FLOWRUN_EXECUTION_ID="):
                return entry.split(b"=", 1)[1].decode()
        raise AssertionError("no FLOWRUN_EXECUTION_ID in an escaped process")


def settle(pids: dict[str, int]) -> dict[str, str]:
    deadline = time.monotonic() + GONE
    while time.monotonic() < deadline and any(alive(pid) for pid in pids.values()):
        time.sleep(0.1)
    return {style: ("SURVIVED" if alive(pid) else "ended") for style, pid in pids.items()}


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Iterator[Callable[..., None]]:
    """Record the row of this way to end a run, assert it, and kill any survivor after."""
    seen: dict[str, int] = {}

    def check(way: str, pids: dict[str, int], returned: float | None) -> None:
        seen.update(pids)
        cells = settle(pids)
        cells.update({style: "no pid" for style in STYLES if style not in pids})
        MATRIX[way] = {"cells": cells, "returned": returned}
        survivors = {style: pids[style] for style, state in cells.items() if state != "ended"}
        assert survivors == {}, f"{way}: alive after the run ended: {survivors}"
        if returned is not None:
            assert returned < PROMPT, f"{way}: returned after {returned:.1f} s"

    yield check
    for pid in seen.values():
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


# -- `flowrun run` -------------------------------------------------------------------------


def finished_cli(run: Run, started: float) -> float:
    assert run.cli is not None
    try:
        run.cli.wait(timeout=PROMPT + 30)
    except subprocess.TimeoutExpired:
        run.cli.kill()
        run.cli.wait()
    return time.monotonic() - started


def test_normal_end(tmp_path: Path, record: Callable[..., None]) -> None:
    run = Run(tmp_path, hold=False)
    started = time.monotonic()
    run.start_cli()
    pids = run.wait_for_pids()
    returned = finished_cli(run, started)
    assert run.cli is not None and run.cli.returncode == 0
    record("normal end", pids, returned)


@pytest.mark.parametrize(
    ("way", "sig"),
    [
        ("Ctrl-C of flowrun run", signal.SIGINT),
        ("SIGTERM of flowrun run", signal.SIGTERM),
        ("SIGHUP of flowrun run", signal.SIGHUP),
        ("SIGKILL of flowrun run", signal.SIGKILL),  # the engine ends its own tree
    ],
)
def test_signal_to_the_cli(
    tmp_path: Path, record: Callable[..., None], way: str, sig: signal.Signals
) -> None:
    run = Run(tmp_path, hold=True)
    cli = run.start_cli()
    pids = run.wait_for_pids()
    started = time.monotonic()
    cli.send_signal(sig)
    returned = finished_cli(run, started)
    record(way, pids, returned)


def test_flowrun_stop_from_another_process(tmp_path: Path, record: Callable[..., None]) -> None:
    run = Run(tmp_path, hold=True)
    run.start_cli()
    pids = run.wait_for_pids()
    execution_id = run.execution_id(pids["amp"])
    started = time.monotonic()
    stop = subprocess.run(
        run.flowrun("stop", execution_id, "--db", str(run.db)),
        cwd=tmp_path,
        capture_output=True,
        timeout=PROMPT + 30,
    )
    returned = time.monotonic() - started
    assert stop.returncode == 0, stop.stderr
    finished_cli(run, started)
    record("flowrun stop (another process)", pids, returned)


def test_node_timeout(tmp_path: Path, record: Callable[..., None]) -> None:
    run = Run(tmp_path, hold=True, node_timeout="8s")
    started = time.monotonic()
    run.start_cli()
    pids = run.wait_for_pids()
    returned = finished_cli(run, started)
    assert run.cli is not None and run.cli.returncode == 1  # failed: NodeTimeout
    record("node timeout", pids, returned)


def test_run_timeout(tmp_path: Path, record: Callable[..., None]) -> None:
    run = Run(tmp_path, hold=True)
    started = time.monotonic()
    run.start_cli("--timeout", "20s")
    pids = run.wait_for_pids()
    returned = finished_cli(run, started)
    assert run.cli is not None and run.cli.returncode == 1  # timed_out
    record("run timeout", pids, returned - 20.0)


# -- the `flowrun lsp` daemon --------------------------------------------------------------


def daemon_run(tmp_path: Path) -> tuple[Daemon, dict[str, int], str]:
    run = Run(tmp_path, hold=True)
    daemon = Daemon(tmp_path)
    answer: Any = daemon.request("flowrun/execute", {"uri": run.file.as_uri()})
    pids = run.wait_for_pids()
    return daemon, pids, str(answer["executionId"])


def test_lsp_stop(tmp_path: Path, record: Callable[..., None]) -> None:
    daemon, pids, execution_id = daemon_run(tmp_path)
    try:
        started = time.monotonic()
        answer = daemon.request("flowrun/stop", {"executionId": execution_id})
        returned = time.monotonic() - started
        assert answer == {"stopped": True}
        tree = daemon.request("flowrun/execution", {"executionId": execution_id})
        assert tree["status"] == "stopped"  # read-your-writes: not `running` any more
    finally:
        daemon.process.kill()
        daemon.process.wait()
    record("LSP flowrun/stop", pids, returned)


@pytest.mark.parametrize(
    ("way", "end"),
    [
        ("SIGTERM of flowrun lsp", lambda d: d.process.send_signal(signal.SIGTERM)),
        ("SIGKILL of flowrun lsp", lambda d: d.process.kill()),
        ("stdin of flowrun lsp closed", lambda d: d.close_stdin()),
    ],
)
def test_end_of_the_daemon(
    tmp_path: Path, record: Callable[..., None], way: str, end: Callable[[Daemon], None]
) -> None:
    daemon, pids, _ = daemon_run(tmp_path)
    started = time.monotonic()
    end(daemon)
    try:
        daemon.process.wait(timeout=PROMPT + 30)
    except subprocess.TimeoutExpired:
        daemon.process.kill()
        daemon.process.wait()
    returned = time.monotonic() - started
    record(way, pids, returned)
