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
    **options: Any,
) -> argparse.ArgumentParser:
    """`flowrun NAME`, running `func(args)`; `options` go to `add_parser` (help, description)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, **options)
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
