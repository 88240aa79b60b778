"""`flowrun test`: a real `python -m flowrun test` process over real workflow files, a real
history file (each test an execution of mode `test` with its name) and real engine children."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

SAMPLE = Path(__file__).parents[1] / "workflow_samples" / "summarize.workflow.yml"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the history goes to <root>/.flowrun
    shutil.copy(SAMPLE, tmp_path / "summarize.workflow.yml")
    return tmp_path


def flowrun_test(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowrun", "test", *args, "--python", sys.executable],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_runs_every_test_pytest_like_and_points_at_the_failing_expectation(
    workspace: Path,
) -> None:
    done = flowrun_test(workspace)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "collected 3 tests in 1 files"
    assert lines[1] == "summarize.workflow.yml ..F"
    assert "FAILURES" in lines[2]
    assert "summarize.workflow.yml::expects the wrong summary" in lines[3]
    # the file:line of `summary: "It runs them locally."`, then the diff
    assert lines[4] == (
        'summarize.workflow.yml:48: expect.outputs.summary: expected "It runs them locally.", '
        'got "It runs in the cloud."'
    )
    assert '    -"It runs them locally."' in lines and '    +"It runs in the cloud."' in lines
    assert lines[-1].strip("= ") == "1 failed, 2 passed in " + lines[-1].split(" in ")[1].strip(
        "= "
    )


def test_keyword_selection_and_exit_zero_when_all_pass(workspace: Path) -> None:
    done = flowrun_test(workspace, "-k", "summarises or provider")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "summarize.workflow.yml .." in done.stdout
    assert " 2 passed in " in done.stdout
    done = flowrun_test(workspace, "-k", "not wrong and not provider")
    assert " 1 passed in " in done.stdout


def test_exitfirst_stops_after_the_first_failure(workspace: Path) -> None:
    text = (workspace / "summarize.workflow.yml").read_text()
    head, tests = text.split("tests:\n")
    failing_first = tests.split("  - name: ")
    reordered = "  - name: " + failing_first[3] + "  - name: " + failing_first[1]
    (workspace / "summarize.workflow.yml").write_text(head + "tests:\n" + reordered)
    done = flowrun_test(workspace, "-x")
    assert done.returncode == 1
    assert "1 failed in " in done.stdout and "passed" not in done.stdout


def test_json_junit_and_the_history_record_each_test(workspace: Path) -> None:
    junit = workspace / "report.xml"
    done = flowrun_test(workspace, "-j", "2", "--json", "--junit", str(junit))
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["summary"] | {"durationMs": 0} == {
        "passed": 2, "failed": 1, "error": 0, "total": 3, "durationMs": 0,
    }  # fmt: skip
    by_name = {t["name"]: t for t in report["tests"]}
    failed = by_name["expects the wrong summary"]
    assert failed["outcome"] == "failed" and failed["line"] == 42
    assert failed["failures"] == [
        {
            "expectation": "expect.outputs.summary",
            "line": 47,
            "message": 'expected "It runs them locally.", got "It runs in the cloud."',
            "expected": '"It runs them locally."',
            "actual": '"It runs in the cloud."',
        }
    ]
    suite = ElementTree.parse(junit).getroot()[0]
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    names = [case.get("name") for case in suite]
    assert "a provider error fails the run" in names
    failure = suite.find("testcase[@name='expects the wrong summary']/failure")
    assert failure is not None and "summarize.workflow.yml:48" in (failure.text or "")

    db = sqlite3.connect(workspace / ".flowrun" / "history.sqlite3")
    rows = db.execute("SELECT id, mode, test_name, status FROM executions").fetchall()
    recorded = {name: (mode, status) for _, mode, name, status in rows}
    assert recorded == {
        "summarises a short text": ("test", "succeeded"),
        "a provider error fails the run": ("test", "failed"),
        "expects the wrong summary": ("test", "succeeded"),
    }
    provider = by_name["a provider error fails the run"]["executionId"]
    mocked = db.execute(
        "SELECT node_id, mocked FROM node_executions WHERE execution_id = ?", (provider,)
    ).fetchall()
    assert sorted(mocked) == [("clean", 0), ("summarize", 1)]
    db.close()
    show = subprocess.run(
        [sys.executable, "-m", "flowrun", "show", provider, "--json"],
        cwd=workspace, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    tree = json.loads(show.stdout)
    assert tree["testName"] == "a provider error fails the run" and tree["mode"] == "test"
    summarize = next(n for n in tree["children"] if n["id"] == "summarize")
    assert summarize["mocked"] is True and summarize["pinned"] is False


def test_an_invalid_file_makes_its_tests_errors(workspace: Path) -> None:
    path = workspace / "summarize.workflow.yml"
    path.write_text(
        path.read_text().replace(
            'summarize: {content: "It runs in', 'sumarize: {content: "It runs in'
        )
    )
    done = flowrun_test(workspace)
    assert done.returncode == 1
    assert "summarize.workflow.yml EEE" in done.stdout
    assert "the workflow file is invalid: " in done.stdout
    assert "there is no node `sumarize`" in done.stdout


def test_a_missing_path_is_a_usage_error(workspace: Path) -> None:
    done = flowrun_test(workspace, "nowhere")
    assert done.returncode == 2
    assert "nowhere: no such file or folder" in done.stderr
