"""The `flowrun` command line: one module per command group, registered here.

Each command module exposes `register(subparsers)`, which adds its sub-commands and sets
`func` on each parser: a callable taking the parsed `argparse.Namespace` and returning the
exit code. Command modules import their heavy dependencies inside `func`, so that
`flowrun --help` and `flowrun validate` stay quick to start.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from flowrun import __version__

# Each module and the commands it registers; the order is the order of `flowrun --help`.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "flowrun.cli.init_cmd": ("init",),
    "flowrun.cli.validate_cmd": ("validate", "schema"),
    "flowrun.cli.run_cmd": ("run",),
    "flowrun.cli.resume_cmd": ("resume",),
    "flowrun.cli.testrun_cmd": ("test",),
    "flowrun.cli.batch_cmd": ("batch",),
    "flowrun.cli.list_cmd": ("list",),
    "flowrun.cli.history_cmd": ("history",),
    "flowrun.cli.show_cmd": ("show",),
    "flowrun.cli.diff_cmd": ("diff",),
    "flowrun.cli.stats_cmd": ("stats",),
    "flowrun.cli.stop_cmd": ("stop",),
    "flowrun.cli.cache_cmd": ("cache",),
    "flowrun.cli.pin_cmd": ("pin", "unpin"),
    "flowrun.cli.serve_cmd": ("serve",),
    "flowrun.cli.worker_cmd": ("worker",),
    "flowrun.cli.lsp_cmd": ("lsp",),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of `command` alone (what `flowrun COMMAND ...` needs:
    importing and registering all the command modules costs more than a validate)."""
    parser = argparse.ArgumentParser(
        prog="flowrun", description="Write and run automation workflows locally."
    )
    parser.add_argument("--version", action="version", version=f"flowrun {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, commands in COMMAND_MODULES.items():
        if command is None or command in commands:
            importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    first = given[0] if given else None
    known = any(first in commands for commands in COMMAND_MODULES.values())
    parser = build_parser(first if known else None)
    args = parser.parse_args(given)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code = int(func(args))
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = _reader_went_away()
    if argv is None and args.command == "run":
        exit_now(code)
    return code


def _reader_went_away() -> int:
    """`flowrun schema | head`: the pipe closed early. Not our error, so no traceback; stdout
    goes to /dev/null so that flushing it at exit does not fail again (Python docs' recipe)."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


def exit_now(code: int) -> None:
    """End the `flowrun run` process without tearing down its modules (the interpreter's
    finalization costs more than the tree it just printed); at-exit handlers still run."""
    import atexit
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # let the usual exit report it
    atexit._run_exitfuncs()  # coverage saves its data here, so the next line is not seen
    os._exit(code)  # pragma: no cover
