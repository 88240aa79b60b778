"""`flowrun validate` and `flowrun schema` through the real command line (subprocesses)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CORPUS = ROOT / "tests" / "corpus"
LINE = re.compile(
    r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning)\[(?P<code>[a-z-]+)\]: .+$"
)


def flowrun(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "flowrun", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_valid_examples_exit_zero_with_a_summary() -> None:
    result = flowrun("validate", "examples")
    assert result.returncode == 0, result.stdout + result.stderr
    count = len(list(EXAMPLES.glob("*.workflow.yml")))
    assert result.stdout == f"All {count} files valid\n"


def test_problems_are_printed_like_gcc_and_exit_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.workflow.yml"
    bad.write_text(
        "version: 1\nnodes:\n  - id: fetch\n    type: shell\n    neeeds: [x]\n    with: {run: ls}\n"
        "  - {id: b, type: transform, with: {value: sk-abcdefghijklmnopqrstuvwxyz0123}}\n"
    )
    good = tmp_path / "good.workflow.yaml"
    good.write_text("version: 1\nnodes: [{id: a, type: shell, with: {run: ls}}]\n")
    result = flowrun("validate", str(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{bad}:5:5: error[unknown-key]: unknown key `neeeds` in node `fetch`; "
        "did you mean `needs`?"
    )
    assert LINE.match(lines[1]) and "warning[secret-literal]" in lines[1]
    assert lines[-1] == "Found 1 error and 1 warning in 1 file"
    assert "\x1b[" not in result.stdout  # plain when piped


def test_warnings_alone_exit_zero(tmp_path: Path) -> None:
    path = tmp_path / "w.workflow.yml"
    path.write_text(
        "version: 1\nnodes: [{id: a, type: transform, with: {value: AKIAABCDEFGHIJKLMNOP}}]\n"
    )
    result = flowrun("validate", str(path))
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "Found 1 warning in 1 file"


def test_json_format_has_zero_based_lsp_ranges() -> None:
    path = CORPUS / "typo-keys.workflow.yml"
    result = flowrun("validate", "--format", "json", str(path))
    assert result.returncode == 1
    items = json.loads(result.stdout)
    first = items[0]
    assert first == {
        "file": str(path),
        "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 7}},
        "severity": "error",
        "code": "unknown-key",
        "message": "unknown key `versoin` in the top level; did you mean `version`?",
    }
    assert {item["code"] for item in items} >= {"unknown-key", "schema"}


def test_json_format_of_valid_files_is_an_empty_list() -> None:
    result = flowrun("validate", "--format", "json", "examples/hello.workflow.yml")
    assert result.returncode == 0 and json.loads(result.stdout) == []


def test_the_whole_corpus_counts_files_errors_and_warnings() -> None:
    result = flowrun("validate", str(CORPUS))
    assert result.returncode == 1
    summary = result.stdout.splitlines()[-1]
    assert re.fullmatch(r"Found \d+ errors and \d warnings in 16 files", summary), summary


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = flowrun("validate", str(tmp_path / "nope.workflow.yml"))
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr


def test_a_folder_without_workflows(tmp_path: Path) -> None:
    result = flowrun("validate", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout == "No workflow files found (*.workflow.yml, *.workflow.yaml)\n"


def test_schema_prints_the_json_schema() -> None:
    result = flowrun("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Flowrun workflow"
    assert "Node" in schema["$defs"]


def test_colour_on_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "c.workflow.yml"
    path.write_text("version: 1\nnodes: [{id: a, type: shel}]\n")
    controller, terminal = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "flowrun", "validate", str(path)],
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=ROOT,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=60) == 1
    output = b"".join(chunks).decode()
    assert "\x1b[" in output and "unknown-node-type" in output


def test_two_workflows_with_one_id_in_a_folder_are_both_reported(tmp_path: Path) -> None:
    text = "version: 1\nnodes: [{id: a, type: shell, with: {run: ls}}]\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "deploy.workflow.yml").write_text(text)
    (tmp_path / "b" / "deploy.workflow.yml").write_text(text)
    (tmp_path / "c.workflow.yml").write_text("id: deploy\n" + text)
    result = flowrun("validate", str(tmp_path))
    assert result.returncode == 1
    lines = [LINE.match(line) for line in result.stdout.splitlines()[:-1]]
    assert sorted((m["path"], m["line"], m["code"]) for m in lines if m) == [
        (str(tmp_path / "a" / "deploy.workflow.yml"), "1", "duplicate-workflow-id"),
        (str(tmp_path / "b" / "deploy.workflow.yml"), "1", "duplicate-workflow-id"),
        (str(tmp_path / "c.workflow.yml"), "1", "duplicate-workflow-id"),
    ]
    assert f"is also the id of {tmp_path / 'a' / 'deploy.workflow.yml'}" in result.stdout


def test_the_cli_reads_yaml_1_2_like_editors(tmp_path: Path) -> None:
    """`yes`, `NO` stay text and `012` is 12 for the run too, not YAML 1.1's true/false/10."""
    path = tmp_path / "flags.workflow.yml"
    path.write_text(
        "version: 1\n"
        "env: {FLAG: yes, COUNTRY: NO, ZIP: 012, BIG: 1_000}\n"
        "nodes:\n"
        "  - {id: sh, type: shell, with: {run: 'echo \"$FLAG $COUNTRY $ZIP $BIG\"'}}\n"
        "outputs: {seen: '${{ nodes.sh.output.stdout }}'}\n"
    )
    assert flowrun("validate", str(path)).returncode == 0
    result = flowrun("run", str(path), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "yes NO 12 1_000" in result.stdout
