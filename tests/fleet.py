"""Queue mode on real servers, shared by the tests that need it (`tests/queue`, the batch
tests): `flowrun worker`s as separate processes, each in its own session and scratch folder
(standing in for machines), `flowrun batch` as the user runs it, and workflows."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

VISIBILITY = "12"  # seconds before the task of a dead worker is delivered again
NAP = """\
version: 1
id: nap
inputs:
  n: {type: number}
nodes:
  - id: nap
    type: shell
    with:
      run: sleep ${{ inputs.n }}
"""
# seconds: a nap found by `sleepers()`, never one that ends by itself; its own digits in each
# test session, so that another session's processes on the same machine are never counted
LONG_NAP = 3000 + random.randrange(1, 1000) + random.randrange(1, 1000) / 1000


def flowrun_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "FLOWRUN_QUEUE_VISIBILITY": VISIBILITY, **extra}


def start_worker(
    folder: Path, queue: str, db: str, name: str, *options: str, visibility: str = VISIBILITY
) -> subprocess.Popen[bytes]:
    """`flowrun worker --name NAME@test` in its own session, scratch folder and log."""
    scratch = folder / name
    scratch.mkdir(parents=True, exist_ok=True)
    with (scratch / "worker.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flowrun", "worker", "--queue", queue, "--db", db,
             "--name", f"{name}@test", "--concurrency", "1", *options],
            cwd=scratch, stdout=log,
            env=flowrun_env(TMPDIR=str(scratch), FLOWRUN_QUEUE_VISIBILITY=visibility),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def end_worker(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to its session (SIGKILL after 30 s); waited for."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def workers(
    folder: Path, queue: str, db: str, names: list[str], *options: str
) -> Iterator[dict[str, int]]:
    """Workers `names` (their pids by name), ended on the way out."""
    procs = {name: start_worker(folder, queue, db, name, *options) for name in names}
    try:
        yield {name: proc.pid for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            end_worker(proc)


def batch(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowrun", "batch", *args], cwd=folder, env=flowrun_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def query(db: str, sql: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(db) as conn:
        return conn.execute(sql).fetchall()


def wait_for(check: Callable[[], object], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def sleepers(seconds: float = LONG_NAP) -> list[int]:
    """The pids of the processes whose command line holds `seconds`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(seconds).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process started by `pid`, at any depth (by parent pid in /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found: list[int] = []
    wanted = [pid]
    while wanted:
        parent = wanted.pop()
        children = [child for child, of in parents.items() if of == parent]
        found.extend(children)
        wanted.extend(children)
    return found


def machine_down(pid: int) -> None:
    """SIGKILL to a worker and everything it started, as when its machine goes down."""
    for victim in [pid, *descendants(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
