"""Running workflow tests: each test is one execution (mode `test`, its `test_name` recorded)
through `RunService`, like any run, with its mocks; then its expectations are checked against
the recorded tree. Shared by `flowrun test`, the pytest plugin and the language server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from flowrun.testing.cases import FileTests, TestCase
from flowrun.testing.expectations import Failure, check
from flowrun.testing.mocks import engine_mocks

if TYPE_CHECKING:
    from flowrun.history.interface import HistoryBackend
    from flowrun.runs.service import EventCallback, RunService

Outcome = Literal["passed", "failed", "error"]


@dataclass
class TestResult:
    __test__ = False  # not a pytest class

    case: TestCase
    outcome: Outcome
    duration_ms: int
    execution_id: str | None = None
    status: str | None = None  # the execution's
    failures: list[Failure] = field(default_factory=list)
    message: str | None = None  # why an `error` could not run
    line_of: Callable[[tuple[Any, ...]], int] | None = None  # 0-based line of a path

    def failure_line(self, failure: Failure) -> int:
        """0-based line of the failed expectation in the file."""
        return self.line_of(failure.where) if self.line_of is not None else self.case.line


ResultCallback = Callable[[TestResult], Awaitable[None] | None]
StartCallback = Callable[[TestCase, str], Awaitable[None] | None]


class TestRunner:
    """Runs tests `jobs` at a time; with `exitfirst`, starts none after the first failure.
    `cancel()` starts none more and stops the executions of the running ones."""

    __test__ = False

    def __init__(
        self,
        service: RunService,
        *,
        jobs: int = 1,
        exitfirst: bool = False,
        on_result: ResultCallback | None = None,
        on_start: StartCallback | None = None,
    ) -> None:
        self.service = service
        self.store: HistoryBackend = service.store
        self.jobs = max(1, jobs)
        self.exitfirst = exitfirst
        self.on_result = on_result
        self.on_start = on_start  # (case, execution id) once its execution is recorded
        self._failed = False
        self._cancelled = False
        self._live: set[str] = set()  # execution ids of the tests running now

    async def cancel(self) -> None:
        """Start no more tests; stop (the whole process tree of) each running test's execution
        and return once their ends are recorded. Each stopped test is an `error`."""
        self._cancelled = True
        await asyncio.gather(*(self.service.stop(eid) for eid in list(self._live)))

    async def run(self, files: Iterable[FileTests], cases: Iterable[TestCase]) -> list[TestResult]:
        by_path = {f.path: f for f in files}
        gate = asyncio.Semaphore(self.jobs)
        ordered = list(cases)

        async def one(case: TestCase) -> TestResult | None:
            async with gate:
                if self._cancelled or (self._failed and self.exitfirst):
                    return None
                result = await self.run_one(by_path[case.file], case)
                self._failed = self._failed or result.outcome != "passed"
                await _call(self.on_result, result)
                return result

        done = await asyncio.gather(*(one(c) for c in ordered))
        return [r for r in done if r is not None]

    async def run_one(self, tests: FileTests, case: TestCase) -> TestResult:
        from flowrun.runs.errors import FlowrunError
        from flowrun.runs.service import TestRun

        started = time.perf_counter()
        if tests.problems or case.test is None or tests.workflow is None:
            return _refused(case, started, _problems_text(tests))
        test = case.test
        trigger = test.trigger.model_dump(exclude_unset=True) if test.trigger else None
        try:
            execution_id = await self.service.execute(
                case.file,
                inputs=dict(test.inputs),
                trigger=trigger,
                test=TestRun(case.name, engine_mocks(tests.workflow, test.mock)),
                text=tests.text,
            )
        except FlowrunError as exc:
            return _refused(case, started, exc.message)
        self._live.add(execution_id)
        try:
            if self._cancelled:  # cancelled while its execution was being created
                await self.service.stop(execution_id)
            await _call(self.on_start, case, execution_id)
            status = await self.service.wait(execution_id)
        finally:
            self._live.discard(execution_id)
        if self._cancelled and status == "stopped":
            return TestResult(
                case, "error", _elapsed(started), execution_id, status, message="cancelled"
            )
        tree = await self.store.execution_tree(execution_id)
        failures = check(test.expect, tree, ("tests", case.index))
        return TestResult(
            case,
            "failed" if failures else "passed",
            _elapsed(started),
            execution_id,
            status,
            failures,
            line_of=tests.line_of,
        )


def _refused(case: TestCase, started: float, message: str) -> TestResult:
    return TestResult(case, "error", _elapsed(started), message=message)


def _problems_text(tests: FileTests) -> str:
    if not tests.problems:
        return "the workflow file could not be read"
    first = tests.problems[0]
    more = f" (and {len(tests.problems) - 1} more)" if len(tests.problems) > 1 else ""
    where = f"{tests.path}:{first.range.start.line + 1}:{first.range.start.character + 1}"
    return f"the workflow file is invalid: {where}: {first.message}{more}"


def _elapsed(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


async def _call(callback: Callable[..., Awaitable[None] | None] | None, *args: Any) -> None:
    if callback is None:
        return
    result = callback(*args)
    if result is not None:
        await result


async def run_tests(
    store: HistoryBackend,
    files: list[FileTests],
    cases: list[TestCase],
    *,
    jobs: int = 1,
    exitfirst: bool = False,
    python: str | None = None,
    on_result: ResultCallback | None = None,
    on_event: EventCallback | None = None,
) -> list[TestResult]:
    """Run `cases` (of `files`) on a fresh `RunService` over `store`."""
    from flowrun.runs.service import RunService

    service = RunService(store, python=python, max_concurrent=max(1, jobs), on_event=on_event)
    runner = TestRunner(service, jobs=jobs, exitfirst=exitfirst, on_result=on_result)
    try:
        return await runner.run(files, cases)
    finally:
        await service.shutdown()


def default_paths(paths: list[Path]) -> list[Path]:
    return paths or [Path.cwd()]
