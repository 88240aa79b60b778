"""`flowrun validate PATH...` and `flowrun schema`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from flowrun.cli.command import add_command


def register(subparsers: Any) -> None:
    validate = add_command(subparsers, "validate", run_validate)
    validate.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    validate.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format"
    )
    add_command(subparsers, "schema", run_schema)


def run_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of workflow files.

    Print the JSON Schema of workflow files (generated from the models)."""
    from flowrun.spec.models import json_schema

    json.dump(json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Check workflow files and print their problems.

    Check workflow files (*.workflow.yml|yaml; folders are searched recursively), and the pin
    files of their nodes (`stale-pin`). Exits 1 when any error was found."""
    from flowrun.validate import find_workflow_files, validate_file
    from flowrun.validate.workspace import workspace_diagnostics

    paths: list[Path] = args.paths
    missing = [p for p in paths if not p.exists()]
    if missing:
        for path in missing:
            print(f"flowrun validate: {path}: no such file or folder", file=sys.stderr)
        return 2
    files = find_workflow_files(paths)
    results = [(path, validate_file(path)) for path in files]
    for path, extra in workspace_diagnostics(results).items():  # duplicate workflow ids
        next(result for p, result in results if p == path).diagnostics.extend(extra)
    from flowrun.runs.pin_check import stale_pin_diagnostics

    for path, result in results:
        result.diagnostics.extend(stale_pin_diagnostics(path, result))
    if args.format == "json":
        items = [d.to_json(str(path)) for path, result in results for d in result.diagnostics]
        json.dump(items, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_text(results, sys.stdout)
    return 1 if any(result.has_errors for _, result in results) else 0


def _print_text(results: list[tuple[Path, Any]], out: TextIO) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=True)
    styles = {"error": "bold red", "warning": "yellow"}
    errors = warnings = 0
    bad_files = 0
    for path, result in results:
        if result.diagnostics:
            bad_files += 1
        for d in result.diagnostics:
            start = d.range.start
            line = Text(f"{path}:{start.line + 1}:{start.character + 1}: ", style="bold")
            line.append(f"{d.severity}[{d.code}]", style=styles.get(str(d.severity), "cyan"))
            line.append(f": {d.message}")
            console.print(line)
            errors += d.severity == "error"
            warnings += d.severity == "warning"
    console.print(_summary(len(results), bad_files, errors, warnings))


def _summary(files: int, bad_files: int, errors: int, warnings: int) -> str:
    if not files:
        return "No workflow files found (*.workflow.yml, *.workflow.yaml)"
    if not errors and not warnings:
        return f"All {_plural(files, 'file')} valid"
    found = " and ".join(
        _plural(n, word) for n, word in ((errors, "error"), (warnings, "warning")) if n
    )
    return f"Found {found} in {_plural(bad_files, 'file')}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
