"""`flowrun test [PATH...]`: run the `tests:` of workflow files, pytest-like.

Each test is an execution recorded in the history (mode `test`, with its name). Output:
one letter per test (`.` passed, `F` failed, `E` error) per file, then every failure with
expected vs actual at the file:line of its expectation, then a summary line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.cli.command import add_command, add_db
from flowrun.cli.run_options import positive_int

if TYPE_CHECKING:
    from flowrun.testing.cases import FileTests, TestCase
    from flowrun.testing.runner import TestResult

EXIT_CODES = """\
exit codes:
  0    every test passed (or none was selected)
  1    a test failed or could not run
  2    usage error (a path does not exist)
"""


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "test", test_command, exit_codes=EXIT_CODES)
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="default: .")
    parser.add_argument(
        "-k", dest="keyword", metavar="PATTERN", help="only tests whose `path::name` matches"
    )
    parser.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    parser.add_argument(
        "-j", "--jobs", type=positive_int, default=1, metavar="N", help="tests at once (1)"
    )
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--python", metavar="PATH", help="interpreter; default: python3 on PATH")
    add_db(parser)


def test_command(args: argparse.Namespace) -> int:
    """Run the workflow tests (`tests:`) of files or folders.

    Run each test of the `tests:` section of workflow files: the workflow runs with the test's
    inputs and trigger, its mocked nodes return what the test says, and its expectations are
    checked."""
    import asyncio

    from flowrun.testing.cases import collect, select

    paths: list[Path] = args.paths or [Path(".")]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"flowrun test: {missing[0]}: no such file or folder", file=sys.stderr)
        return 2
    files = collect(paths)
    cases = select([c for f in files for c in f.cases], args.keyword)
    return asyncio.run(_main(args, files, cases, paths[0]))


async def _main(
    args: argparse.Namespace, files: list[FileTests], cases: list[TestCase], start: Path
) -> int:
    from flowrun.history.interface import open_history
    from flowrun.history.location import history_location
    from flowrun.testing import report
    from flowrun.testing.runner import run_tests

    began = time.perf_counter()
    progress = _Progress(cases, quiet=args.json)
    store = await open_history(history_location(start.absolute(), args.db))
    try:
        results = await run_tests(
            store,
            files,
            cases,
            jobs=args.jobs,
            exitfirst=args.exitfirst,
            python=args.python,
            on_result=progress.add,
        )
    finally:
        await store.close()
    results.sort(key=lambda r: (str(r.case.file), r.case.index))
    seconds = time.perf_counter() - began
    progress.end()
    if args.junit:
        args.junit.write_bytes(report.junit_xml(results, seconds))
    if args.json:
        import json

        print(json.dumps(report.as_json(results, seconds), indent=2))
    else:
        print("\n".join(report.report_text(results, seconds)))
    return 0 if all(r.outcome == "passed" for r in results) else 1


class _Progress:
    """`path .F.` lines: a letter per finished test, a new line per file."""

    def __init__(self, cases: list[TestCase], *, quiet: bool) -> None:
        self.quiet = quiet
        self.total = len(cases)
        self.file: Path | None = None
        if not quiet:
            files = len({c.file for c in cases})
            print(f"collected {self.total} test{'s' * (self.total != 1)} in {files} files")

    def add(self, result: TestResult) -> None:
        if self.quiet:
            return
        from flowrun.testing.report import LETTERS, shown_path

        if result.case.file != self.file:
            if self.file is not None:
                sys.stdout.write("\n")
            self.file = result.case.file
            sys.stdout.write(f"{shown_path(result.case.file)} ")
        sys.stdout.write(LETTERS[result.outcome])
        sys.stdout.flush()

    def end(self) -> None:
        if not self.quiet and self.file is not None:
            sys.stdout.write("\n")
