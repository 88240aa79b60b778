"""validate_text / validate_file / find_workflow_files: the seams the CLI and the LSP use."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowrun.validate import Diagnostic, Range, Severity, find_workflow_files, validate_file
from flowrun.validate import api as validate_api
from flowrun.validate.context import RuleContext
from unit.helpers import VALID, check

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_validate_file_reads_utf8(tmp_path: Path) -> None:
    path = tmp_path / "ok.workflow.yml"
    path.write_text(VALID.lstrip("\n"), encoding="utf-8")
    result = validate_file(path)
    assert result.diagnostics == [] and result.workflow is not None


def test_validate_file_reports_non_utf8_bytes_where_they_are(tmp_path: Path) -> None:
    path = tmp_path / "bad.workflow.yml"
    path.write_bytes(b"version: 1\nname: caf\xe9\n")
    [d] = validate_file(path).diagnostics
    assert d.code == "yaml-syntax"
    assert d.message == "the file is not UTF-8 text (byte 0xe9 at offset 20); save it as UTF-8"
    assert (d.range.start.line, d.range.start.character) == (1, 9)


def test_validate_file_reports_an_unreadable_file(tmp_path: Path) -> None:
    [d] = validate_file(tmp_path / "missing.workflow.yml").diagnostics
    assert d.message.startswith("cannot read ") and "No such file" in d.message


def test_the_validator_reports_its_own_bug_instead_of_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(ctx: RuleContext) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(validate_api, "RULES", (broken,))
    result = check(VALID)
    [d] = result.diagnostics
    assert d.message.startswith("flowrun could not check this file (RuntimeError: boom)")
    assert d.code == "internal-error"  # not `schema`: the file may well be valid
    assert result.workflow is None


def test_diagnostics_are_sorted_and_unique() -> None:
    text = "version: 1\nnodes:\n  - {id: b, type: nope}\n  - {id: a, type: nope}\n"
    lines = [d.range.start.line for d in check(text).diagnostics]
    assert lines == sorted(lines) == [2, 3]


def test_to_json_has_the_design_shape() -> None:
    d = Diagnostic(Range.of(1, 2, 1, 5), Severity.ERROR, "schema", "m")
    assert d.to_json("f.yml") == {
        "file": "f.yml",
        "range": {"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 5}},
        "severity": "error",
        "code": "schema",
        "message": "m",
    }


def test_find_workflow_files_recurses_and_skips_tool_folders(tmp_path: Path) -> None:
    for name in (
        "a.workflow.yml",
        "sub/b.workflow.yaml",
        "sub/deeper/c.workflow.yml",
        "sub/other.yml",
        ".git/d.workflow.yml",
        "node_modules/e.workflow.yml",
        ".venv/f.workflow.yml",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("version: 1\n")
    explicit = tmp_path / "sub" / "other.yml"
    found = find_workflow_files([tmp_path, explicit, tmp_path / "a.workflow.yml"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.workflow.yml",
        "sub/b.workflow.yaml",
        "sub/deeper/c.workflow.yml",
        "sub/other.yml",
    ]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.workflow.yml")), ids=lambda p: p.name)
def test_every_example_is_valid(path: Path) -> None:
    result = validate_file(path)
    assert result.diagnostics == [] and result.workflow is not None


def test_there_are_at_least_five_examples() -> None:
    assert len(list(EXAMPLES.glob("*.workflow.yml"))) >= 5
