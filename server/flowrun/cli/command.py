"""Registering a sub-command: the parser, its `func`, and the arguments several commands
share (`--db`, an optional `DIR`). Standard library only: every `flowrun` call imports it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

DB_HELP = "history: a SQLite file (.flowrun/history.sqlite3) or postgresql://user@host/db"


def add_command(
    subparsers: Any,
    name: str,
    func: Callable[[argparse.Namespace], int],
    *,
    doc: str | None = None,
    exit_codes: str | None = None,
) -> argparse.ArgumentParser:
    """`flowrun NAME`, running `func(args)` and described by `doc`, by default `func`'s
    docstring: its summary line is the command's line in `flowrun --help`, the paragraph
    below it (if any) the description of `flowrun NAME --help`. `exit_codes`: a table
    printed as it is below the options."""
    summary, _, body = (doc or func.__doc__ or "").strip().partition("\n\n")
    raw = exit_codes is not None
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=summary[:1].lower() + summary[1:].rstrip("."),
        description=" ".join(body.split()) or None,
        epilog=exit_codes,
        formatter_class=argparse.RawDescriptionHelpFormatter if raw else argparse.HelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def add_db(parser: argparse.ArgumentParser, help: str = DB_HELP) -> None:
    parser.add_argument("--db", type=db_location, metavar="PATH|URL", help=help)


def db_location(text: str) -> Path | str:
    """`--db`: a file path, or a PostgreSQL URL kept as text (a Path would fold its `//`)."""
    return text if text.startswith(("postgresql://", "postgres://")) else Path(text)


def add_dir(parser: argparse.ArgumentParser) -> None:
    """An optional `DIR`, the current folder by default."""
    parser.add_argument(
        "dir", nargs="?", type=Path, default=Path("."), metavar="DIR", help="default: ."
    )
