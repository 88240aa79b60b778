"""`flowrun list [DIR]`: the workflows of a workspace, with their trigger, last run and
success rate (from the workspace's history; a file's runs, so two files never mix)."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowrun.cli.command import add_command, add_dir
from flowrun.cli.store_cmd import common_options, print_json, run_with_store

if TYPE_CHECKING:
    from flowrun.history.store import HistoryStore

SKIP_DIRS = {"node_modules", "__pycache__", "venv", "site-packages"}
SUFFIXES = (".workflow.yml", ".workflow.yaml")
MAX_RUNS = 1000  # the history keeps at most this many per workflow


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "list", list_command)
    add_dir(parser)
    common_options(parser)


def list_command(args: argparse.Namespace) -> int:
    """List the workflows of the workspace with their last run.

    List the *.workflow.yml files of the workspace (the folder holding .git or .flowrun, from
    DIR up) with their trigger, last run and success rate."""
    from flowrun.history.store import default_db_path

    default = default_db_path(args.dir)
    args.root = default.parent.parent
    args.db = args.db or default
    return run_with_store(args, _list, _without_history)


def _without_history(args: argparse.Namespace, path: Path) -> int:
    return _print(args, [_entry(args.root, file, []) for file in workflow_files(args.root)])


async def _list(store: HistoryStore, args: argparse.Namespace) -> int:
    entries = []
    for file in workflow_files(args.root):
        runs = await store.list_executions(file=str(file), limit=MAX_RUNS)
        entries.append(_entry(args.root, file, runs))
    return _print(args, entries)


def workflow_files(root: Path) -> Iterator[Path]:
    """The workflow files under `root`, skipping hidden folders and dependency folders."""
    for folder, dirs, files in os.walk(root.resolve()):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(SUFFIXES):
                yield Path(folder) / name


def _entry(root: Path, file: Path, runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    from flowrun.status import ExecutionStatus, is_active

    described = describe(file)
    succeeded = sum(1 for run in runs if run["status"] == ExecutionStatus.SUCCEEDED)
    finished = [run for run in runs if not is_active(run["status"])]
    last = runs[0] if runs else None
    return {
        **described,
        "file": str(file.relative_to(root.resolve())),
        "lastRun": None if last is None else {
            k: last[k] for k in ("id", "status", "startedAt", "durationMs")
        },
        "runs": len(runs),
        "succeeded": succeeded,
        "successRate": round(succeeded / len(finished), 3) if finished else None,
    }  # fmt: skip


def describe(file: Path) -> dict[str, Any]:
    """Id, name, trigger and validity of a workflow file (tolerant of invalid files)."""
    from types import SimpleNamespace

    from flowrun.spec.loader import load_yaml
    from flowrun.spec.resolve import workflow_id
    from flowrun.validate import validate_file

    checked = validate_file(file)
    errors = sum(1 for d in checked.diagnostics if str(d.severity) == "error")
    try:
        loaded = load_yaml(file.read_text(encoding="utf-8")).data
    except (OSError, UnicodeDecodeError):
        loaded = None
    data: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    raw_id = data.get("id") if isinstance(data.get("id"), str) else None
    found = data.get("trigger")
    trigger: dict[str, Any] = found if isinstance(found, dict) else {}
    return {
        "id": workflow_id(SimpleNamespace(id=raw_id), file),  # type: ignore[arg-type]
        "name": data.get("name") if isinstance(data.get("name"), str) else None,
        "trigger": {k: trigger.get(k) for k in ("type", "method", "path") if trigger.get(k)}
        or {"type": "manual"},
        "errors": errors,
    }


def _print(args: argparse.Namespace, entries: list[dict[str, Any]]) -> int:
    if args.json:
        print_json({"root": str(args.root.resolve()), "workflows": entries})
        return 0
    if not entries:
        print(f"No *.workflow.yml files under {args.root.resolve()}. Start one: flowrun init")
        return 0
    _table(entries, time.time())
    return 0


def _table(entries: list[dict[str, Any]], now: float) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from flowrun.cli.history_cmd import epoch, relative_time
    from flowrun.cli.render import badge

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("WORKFLOW", "FILE", "TRIGGER", "LAST RUN", "", "SUCCESS"):
        table.add_column(column)
    for entry in entries:
        last = entry["lastRun"]
        rate = entry["successRate"]
        table.add_row(
            Text(entry["id"]) + (Text("  invalid", style="red") if entry["errors"] else ""),
            Text(entry["file"], style="dim"),
            " ".join(str(v) for v in entry["trigger"].values()),
            badge(last["status"]) if last else Text("never run", style="dim"),
            relative_time(epoch(last["startedAt"]), now) if last else "",
            f"{rate:.0%} of {entry['runs']}" if rate is not None else "-",
        )
    Console(highlight=False).print(table)
