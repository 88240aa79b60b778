"""`flowrun batch` with the local pool: real `flowrun` processes, real engine children, a real
SQLite history in a temp folder."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from fleet import LONG_NAP, NAP, sleepers

WORKFLOW = """\
version: 1
id: square
inputs:
  n: {type: number}
  note: {type: string, default: none}
nodes:
  - id: sq
    type: shell
    with:
      run: test "$N" -ne 3 && echo $((N*N))
      env: {N: "${{ inputs.n }}"}
outputs:
  out: ${{ nodes.sq.output.stdout }}
"""


def batch(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowrun", "batch", *args], cwd=folder, capture_output=True,
        text=True, timeout=240,
    )  # fmt: skip


def history_rows(folder: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(folder / ".flowrun" / "history.sqlite3")
    try:
        return conn.execute("SELECT id, status, mode FROM executions ORDER BY seq").fetchall()
    finally:
        conn.close()


def test_csv_rows_run_typed_results_in_input_order_and_exit_1_on_a_failure(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "sq.workflow.yml").write_text(WORKFLOW)
    (tmp_path / "rows.csv").write_text("n,note\n4\n3,three\n2\nx\n1\n")
    done = batch(tmp_path, "sq.workflow.yml", "--inputs", "rows.csv", "--max-concurrent", "2",
                 "--out", "results.jsonl")  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "3 succeeded, 2 failed of 5" in done.stderr
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["row"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == ["succeeded", "failed", "succeeded", "failed",
                                              "succeeded"]  # fmt: skip
    assert [r["outputs"] for r in results if r["status"] == "succeeded"] == [
        {"out": "16"}, {"out": "4"}, {"out": "1"}
    ]  # fmt: skip
    assert (
        results[3]["execution_id"] is None and "must be a number" in results[3]["error"]["message"]
    )
    recorded = {row[0]: row for row in history_rows(tmp_path)}
    assert len(recorded) == 4  # the refused row never became an execution
    for result in results:
        if result["execution_id"]:
            assert recorded[result["execution_id"]][1:] == (result["status"], "batch")


def test_jsonl_rows_all_succeed_exit_0_results_on_stdout(tmp_path: Path) -> None:
    (tmp_path / "sq.workflow.yml").write_text(WORKFLOW)
    (tmp_path / "rows.jsonl").write_text('{"n": 5}\n\n{"n": 6, "note": "x"}\n')
    done = batch(tmp_path, "sq.workflow.yml", "--inputs", "rows.jsonl")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["row"], r["outputs"]) for r in lines] == [(0, {"out": "25"}), (1, {"out": "36"})]


def test_a_bad_rows_file_or_workflow_runs_nothing(tmp_path: Path) -> None:
    (tmp_path / "sq.workflow.yml").write_text(WORKFLOW)
    (tmp_path / "bad.jsonl").write_text('{"n": 1}\n[1]\n')
    done = batch(tmp_path, "sq.workflow.yml", "--inputs", "bad.jsonl")
    assert done.returncode == 1 and "bad.jsonl:2: a row must be a JSON object" in done.stderr
    (tmp_path / "broken.workflow.yml").write_text(WORKFLOW.replace("type: shell", "type: nope"))
    (tmp_path / "rows.jsonl").write_text('{"n": 1}\n')
    done = batch(tmp_path, "broken.workflow.yml", "--inputs", "rows.jsonl")
    assert done.returncode == 1 and "ValidationError" in done.stderr
    assert not (tmp_path / ".flowrun").exists() or history_rows(tmp_path) == []


def test_ctrl_c_stops_every_execution_and_records_it(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "nap.workflow.yml").write_text(NAP)
    (tmp_path / "rows.jsonl").write_text(f'{{"n": {LONG_NAP}}}\n' * 5)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowrun", "batch", "nap.workflow.yml", "--inputs", "rows.jsonl",
         "--max-concurrent", "2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(sleepers()) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, "no execution started"
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "stopped" in err
    assert sleepers() == []
    statuses = [row[1] for row in history_rows(tmp_path)]
    assert statuses == ["stopped", "stopped"]  # the other rows never started
