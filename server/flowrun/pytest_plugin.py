"""The `flowrun` pytest plugin (a `pytest11` entry point): plain `pytest` collects the tests of
`*.workflow.yml` / `*.workflow.yaml` files as items named `path::test name`.

Each item runs like `flowrun test` does (one execution, mode `test`, recorded in the
workspace's history) and fails with the failed expectations, each at its file:line with
expected vs actual. Files without a `tests:` section are not collected. Options:
`--flowrun-python PATH` (the interpreter of the runs) and `--flowrun-db PATH` (the history).
Turn the plugin off with `-p no:flowrun`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowrun.testing.cases import FileTests, TestCase, collect_file
from flowrun.testing.runner import TestResult

_HAS_TESTS = re.compile(r"^tests\s*:", re.MULTILINE)
_SUFFIXES = (".workflow.yml", ".workflow.yaml")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowrun", "workflow tests (the `tests:` of *.workflow.yml)")
    group.addoption("--flowrun-python", metavar="PATH", help="interpreter of the workflow runs")
    group.addoption("--flowrun-db", metavar="PATH", help="history database of the runs")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> WorkflowFile | None:
    if not file_path.name.endswith(_SUFFIXES):
        return None
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not _HAS_TESTS.search(text):
        return None
    found: WorkflowFile = WorkflowFile.from_parent(parent, path=file_path)
    return found


class WorkflowFile(pytest.File):
    def collect(self) -> Iterator[WorkflowItem]:
        tests = collect_file(self.path)
        for case in tests.cases:
            yield WorkflowItem.from_parent(self, name=case.name, case=case, tests=tests)


class WorkflowTestFailed(Exception):
    def __init__(self, result: TestResult) -> None:
        super().__init__(result.message or "workflow test failed")
        self.result = result


class WorkflowItem(pytest.Item):
    def __init__(self, *, case: TestCase, tests: FileTests, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.tests = tests
        # pytest-lsp's runtest wrapper reads `funcargs` and fails on items without it
        self.funcargs: dict[str, Any] = {}

    def runtest(self) -> None:
        result = asyncio.run(self._run())
        self.user_properties.append(("flowrun_execution_id", result.execution_id))
        if result.outcome != "passed":
            raise WorkflowTestFailed(result)

    async def _run(self) -> TestResult:
        from flowrun.history.interface import open_history
        from flowrun.history.location import history_location
        from flowrun.testing.runner import run_tests

        config = self.config
        db = config.getoption("flowrun_db")
        store = await open_history(history_location(self.path, db))
        try:
            python = config.getoption("flowrun_python")
            [result] = await run_tests(store, [self.tests], [self.case], python=python)
        finally:
            await store.close()
        return result

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        from flowrun.testing.report import failure_text

        if isinstance(excinfo.value, WorkflowTestFailed):
            return "\n".join(failure_text(excinfo.value.result))
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line, self.case.name
