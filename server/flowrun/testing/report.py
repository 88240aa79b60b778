"""What `flowrun test` prints: pytest-like progress, failures with a diff at the file:line of
the failed expectation, a summary line; and the `--json` and `--junit` forms."""

from __future__ import annotations

import difflib
import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from flowrun.testing.expectations import Failure
from flowrun.testing.matchers import MISSING, matcher_name
from flowrun.testing.runner import TestResult

LETTERS = {"passed": ".", "failed": "F", "error": "E"}
WIDTH = 80


def shown_path(path: Path) -> str:
    """`path` relative to the working folder when it is below it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def as_json_text(value: Any) -> str:
    if value is MISSING:
        return "(nothing)"
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def diff_lines(failure: Failure) -> list[str]:
    """Expected vs actual: a unified diff for plain values, both values for a matcher."""
    expected, actual = failure.expected, failure.actual
    if matcher_name(expected) is not None or expected is MISSING or actual is MISSING:
        return [f"expected: {as_json_text(expected)}", f"actual:   {as_json_text(actual)}"]
    left = as_json_text(expected).splitlines()
    right = as_json_text(actual).splitlines()
    diff = difflib.unified_diff(left, right, "expected", "actual", lineterm="", n=3)
    return list(diff)


def failure_text(result: TestResult) -> list[str]:
    """The lines of one failed or errored test, below its header."""
    where = shown_path(result.case.file)
    if result.outcome == "error":
        return [f"{where}:{result.case.line + 1}: {result.message}"]
    lines: list[str] = []
    for failure in result.failures:
        line = result.failure_line(failure) + 1
        lines.append(f"{where}:{line}: {failure.label}: {failure.message}")
        lines += ["    " + text for text in diff_lines(failure)]
    if result.execution_id:
        short = result.execution_id[:8]
        lines.append(f"execution {short} (flowrun show {short})")
    return lines


def header(title: str, fill: str = "=") -> str:
    text = f" {title} "
    left = max((WIDTH - len(text)) // 2, 3)
    return fill * left + text + fill * max(WIDTH - left - len(text), 3)


def summary(results: Iterable[TestResult], seconds: float) -> str:
    counts = Counter(r.outcome for r in results)
    parts = [f"{counts[k]} {k}" for k in ("failed", "error", "passed") if counts[k]]
    if counts["error"] > 1:
        parts = [p.replace("error", "errors") for p in parts]
    return f"{', '.join(parts) or 'no tests ran'} in {seconds:.2f}s"


def report_text(results: list[TestResult], seconds: float) -> list[str]:
    """Everything after the progress lines."""
    lines: list[str] = []
    bad = [r for r in results if r.outcome != "passed"]
    if bad:
        lines.append(header("FAILURES"))
        for result in bad:
            lines.append(header(f"{shown_path(result.case.file)}::{result.case.name}", "_"))
            lines += failure_text(result)
    lines.append(header(summary(results, seconds)))
    return lines


def as_json(results: list[TestResult], seconds: float) -> dict[str, Any]:
    counts = Counter(r.outcome for r in results)
    return {
        "summary": {k: counts[k] for k in ("passed", "failed", "error")}
        | {"total": len(results), "durationMs": round(seconds * 1000)},
        "tests": [result_json(r) for r in results],
    }


def result_json(result: TestResult) -> dict[str, Any]:
    return {
        "id": result.case.id,
        "file": str(result.case.file),
        "name": result.case.name,
        "line": result.case.line,
        "outcome": result.outcome,
        "durationMs": result.duration_ms,
        "executionId": result.execution_id,
        "status": result.status,
        "message": result.message,
        "failures": [failure_json(result, f) for f in result.failures],
    }


def failure_json(result: TestResult, failure: Failure) -> dict[str, Any]:
    return {
        "expectation": failure.label,
        "line": result.failure_line(failure),
        "message": failure.message,
        "expected": as_json_text(failure.expected),
        "actual": as_json_text(failure.actual),
    }


def junit_xml(results: list[TestResult], seconds: float) -> bytes:
    counts = Counter(r.outcome for r in results)
    suite = ElementTree.Element(
        "testsuite",
        name="flowrun",
        tests=str(len(results)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        time=f"{seconds:.3f}",
    )
    for result in results:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=shown_path(result.case.file),
            name=result.case.name,
            file=shown_path(result.case.file),
            line=str(result.case.line + 1),
            time=f"{result.duration_ms / 1000:.3f}",
        )
        if result.outcome != "passed":
            tag = "failure" if result.outcome == "failed" else "error"
            text = "\n".join(failure_text(result))
            first = result.message or (result.failures[0].message if result.failures else "")
            ElementTree.SubElement(case, tag, message=first).text = text
    root = ElementTree.Element("testsuites")
    root.append(suite)
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))
