"""`flowrun lsp`: the language server daemon the editor talks to over stdio."""

from __future__ import annotations

import argparse
from typing import Any

from flowrun.cli.command import add_command


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "lsp", run)
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="what the server logs on stderr (default: WARNING)",
    )


def run(args: argparse.Namespace) -> int:
    """Start the language server on stdin/stdout (editors start it for you).

    Start the Flowrun language server on stdin/stdout."""
    import faulthandler
    import logging
    import signal

    from flowrun.lsp.server import build_server
    from flowrun.lsp.stdio import serve_stdio

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack

    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return serve_stdio(build_server())
