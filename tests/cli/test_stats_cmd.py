"""`flowrun stats`'s table over a generated history (benchmarks/generated_history.py, the
store's own rows): laid out as Rich's borderless Table laid it out before it was replaced by
one Text for speed (issue 18), then a line per workflow naming its costliest and slowest
nodes."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from flowrun.cli.stats_cmd import COLUMNS, _row
from flowrun.humanize import format_cost


def _benchmark_module(name: str) -> Any:
    """A module of benchmarks/, loaded by its path: putting benchmarks/ on sys.path would let
    its `serve.py` shadow the tests' own `serve` package for the rest of the session."""
    path = Path(__file__).parents[2] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fill = _benchmark_module("generated_history").fill

Cli = Callable[..., tuple[int, str, str]]  # the `cli` fixture (conftest.py)


def rich_table(workflows: list[dict[str, Any]]) -> str:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "WORKFLOW" else "right")
    for item in workflows:
        table.add_row(*_row(item))
    console = Console(file=io.StringIO(), width=200, highlight=False)
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_the_table_and_the_node_lines(tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "history.sqlite3"
    fill(db, executions=240, nodes=3, workflows=12)
    code, out, _ = cli("stats", "--json", "--db", str(db))
    workflows = json.loads(out)["workflows"]
    assert code == 0 and len(workflows) == 12

    code, out, _ = cli("stats", "--db", str(db))
    assert code == 0
    table = rich_table(workflows)
    assert out.startswith(table)
    node_lines = out[len(table) :].splitlines()
    assert len(node_lines) == 12
    for line, item in zip(node_lines, workflows, strict=True):
        costliest = ", ".join(
            f"{n['id']} {format_cost(n['costUsd'])}" for n in item["costliestNodes"]
        )
        assert line.startswith(f"{item['workflowId']}  costliest: {costliest}  slowest (avg): ")
