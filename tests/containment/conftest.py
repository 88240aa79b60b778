"""The containment matrix (issue 12): its cells are collected here and printed at the end of
the test session ("containment matrix"), for the record."""

from __future__ import annotations

from typing import Any

from containment.escapes import STYLES

# end way -> {"cells": {style: "ended" | "SURVIVED" | "no pid"}, "returned": seconds | None}
MATRIX: dict[str, dict[str, Any]] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not MATRIX:
        return
    write = terminalreporter.write_line
    terminalreporter.section("containment matrix (issue 12): processes left alive, by pid")
    width = max(len(way) for way in MATRIX)
    write(f"{'end of the run':<{width}}  survivors  returned  " + " ".join(STYLES))
    total = 0
    for way, row in MATRIX.items():
        cells = row["cells"]
        survivors = sum(1 for state in cells.values() if state != "ended")
        total += survivors
        returned = row.get("returned")
        shown = f"{returned:6.1f} s" if returned is not None else "      -"
        marks = " ".join(
            f"{('ok' if cells.get(style) == 'ended' else cells.get(style, '?')):<{len(style)}}"
            for style in STYLES
        )
        write(f"{way:<{width}}  {survivors:>9}  {shown}  {marks}")
    write(f"{len(MATRIX)} ways x {len(STYLES)} escape styles: {total} survivors")
