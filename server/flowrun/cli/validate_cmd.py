"""`flowrun validate PATH...` and `flowrun schema`."""

from __future__ import annotations

import argparse
import json
import os
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
    lines: list[tuple[str, str, str]] = []  # where, severity[code], message
    errors = warnings = 0
    bad_files = 0
    for path, result in results:
        if result.diagnostics:
            bad_files += 1
        for d in result.diagnostics:
            start = d.range.start
            where = f"{path}:{start.line + 1}:{start.character + 1}: "
            lines.append((where, f"{d.severity}[{d.code}]", d.message))
            errors += d.severity == "error"
            warnings += d.severity == "warning"
    summary = _summary(len(results), bad_files, errors, warnings)
    if _colour(out):
        _print_rich(lines, summary, out)
    else:  # Rich's import costs more than checking a small file: only a terminal needs it
        for where, kind, message in lines:
            out.write(_plain(f"{where}{kind}: {message}") + "\n")
        out.write(summary + "\n")


def _colour(out: TextIO) -> bool:
    """What Rich says of `out`: a terminal, or a variable that forces colour."""
    forced = any(os.environ.get(name) for name in ("FORCE_COLOR", "TTY_COMPATIBLE"))
    return forced or out.isatty()


# Rich drops these control characters and expands tabs: so does the plain output
_CONTROL = dict.fromkeys((7, 8, 11, 12, 13))


def _plain(text: str) -> str:
    return text.translate(_CONTROL).expandtabs(8)


def _print_rich(lines: list[tuple[str, str, str]], summary: str, out: TextIO) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=True)
    styles = {"error": "bold red", "warning": "yellow"}
    for where, kind, message in lines:
        line = Text(where, style="bold")
        line.append(kind, style=styles.get(kind.partition("[")[0], "cyan"))
        line.append(f": {message}")
        console.print(line)
    console.print(summary)


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
