"""Finding workflow tests: the `tests:` cases of files and folders, with their lines.

A test's id is `path::name` (pytest's style); its line is that of its `- name:` entry. A file
whose validation finds errors still lists its tests (from the raw YAML) so an editor can show
them, but they cannot run: `FileTests.problems` says why.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowrun.spec.loader import JsonPath, SourceMap
from flowrun.spec.models import Workflow, WorkflowTest
from flowrun.validate.api import ValidationResult, find_workflow_files, validate_file, validate_text
from flowrun.validate.diagnostic import Diagnostic, Severity


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest class

    file: Path
    index: int  # in `tests:`
    name: str
    line: int  # 0-based line of its `- name:` entry
    test: WorkflowTest | None  # None when the file is invalid

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class FileTests:
    path: Path
    cases: list[TestCase] = field(default_factory=list)
    workflow: Workflow | None = None
    source: SourceMap | None = None
    problems: list[Diagnostic] = field(default_factory=list)  # errors: nothing can run
    text: str | None = None  # an editor's unsaved text, run instead of the file's

    def line_of(self, path: JsonPath) -> int:
        """0-based line of the value at `path` (its nearest written ancestor)."""
        if self.source is None:
            return 0
        return self.source.range(self.source.token_span(path)).start.line


def collect_file(path: Path, text: str | None = None) -> FileTests:
    path = Path(path).absolute()
    result = validate_file(path) if text is None else validate_text(text, path)
    found = from_validation(path, result)
    found.text = text
    return found


def from_validation(path: Path, result: ValidationResult) -> FileTests:
    errors = [d for d in result.diagnostics if d.severity == Severity.ERROR]
    found = FileTests(path, workflow=result.workflow, source=result.source, problems=errors)
    raw = result.source.data if result.source is not None else None
    tests = raw.get("tests") if isinstance(raw, dict) else None
    if not isinstance(tests, list):
        return found
    models = result.workflow.tests if result.workflow is not None else None
    for index, entry in enumerate(tests):
        name = _name(entry, index)
        line = found.line_of(("tests", index, "name") if _has_name(entry) else ("tests", index))
        test = models[index] if models is not None else None
        found.cases.append(TestCase(path, index, name, line, test))
    return found


def collect(paths: Iterable[Path]) -> list[FileTests]:
    """The test files under `paths` (files or folders), in path order; files without tests
    are left out."""
    found = [collect_file(p) for p in find_workflow_files(paths)]
    return [f for f in found if f.cases]


def select(cases: Iterable[TestCase], pattern: str | None) -> list[TestCase]:
    """pytest's `-k` in a small form: words joined by `and`/`or`, each maybe after `not`,
    matched case-insensitively as substrings (or globs) of `path::name`."""
    chosen = list(cases)
    if not pattern:
        return chosen
    return [c for c in chosen if _keyword_match(pattern, c.id)]


def _keyword_match(pattern: str, text: str) -> bool:
    lowered = text.lower()
    alternatives = [a.strip() for a in _split(pattern.lower(), " or ")]
    return any(all(_term(t, lowered) for t in _split(a, " and ")) for a in alternatives)


def _split(text: str, word: str) -> list[str]:
    return [part for part in text.split(word) if part.strip()]


def _term(term: str, text: str) -> bool:
    term = term.strip()
    if term.startswith("not "):
        return not _term(term[4:], text)
    if any(c in term for c in "*?["):
        return fnmatch.fnmatch(text, f"*{term}*")
    return term in text


def _has_name(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("name"), str)


def _name(entry: Any, index: int) -> str:
    return str(entry["name"]) if _has_name(entry) else f"test {index + 1}"
