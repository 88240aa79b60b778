"""`flowrun serve [DIR...]`: the http workflows as a long-running web service (production)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from flowrun.cli.command import add_command, add_db

EXTRA_HINT = "flowrun serve needs the serve extra: pip install 'flowrun[serve]'"


def register(subparsers: Any) -> None:
    serve = add_command(subparsers, "serve", run_serve)
    serve.add_argument("folders", nargs="*", type=Path, metavar="DIR")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (8080)")
    serve.add_argument(
        "--max-concurrent",
        type=int,
        default=os.cpu_count() or 2,
        metavar="N",
        help="engine children running at once (CPU count)",
    )
    serve.add_argument(
        "--queue-size", type=int, default=100, metavar="N", help="waiting executions (100)"
    )
    serve.add_argument("--warm", type=int, default=2, metavar="N", help="warm engine children (2)")
    add_db(serve, help="history database")
    serve.add_argument("--grace", default="30s", metavar="DURATION", help="drain time (30s)")
    serve.add_argument("--log-format", choices=("text", "json"), default="text")
    serve.add_argument("--max-body", default="1MiB", metavar="SIZE", help="body limit (1MiB)")
    serve.add_argument("--python", metavar="PATH", help="interpreter of the engine children")
    serve.add_argument(
        "--queue", metavar="URL", help="redis://…: run on `flowrun worker`s (needs --db URL)"
    )
    serve.add_argument(
        "--retention", type=int, default=1000, metavar="N", help="executions kept per workflow"
    )


def parse_size(text: str) -> int:
    units = {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "kb": 1000, "mb": 1000**2, "b": 1}
    lowered = text.strip().lower()
    for unit, factor in units.items():
        if lowered.endswith(unit):
            return int(float(lowered[: -len(unit)]) * factor)
    return int(lowered)


def run_serve(args: argparse.Namespace) -> int:
    """Serve the http workflows as a web service (production mode).

    Serve every valid *.workflow.yml with an http trigger under DIR (default: the workspace) at
    its trigger.method + trigger.path. Each request is an execution in mode `production`,
    recorded in the history."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        print(f"flowrun serve: {EXTRA_HINT}", file=sys.stderr)
        return 2
    import logging

    from flowrun.pyenv.known import known_executable
    from flowrun.serve.routes import RouteConflict, load_table
    from flowrun.serve.server import run, startup_report
    from flowrun.serve.state import ServeOptions
    from flowrun_engine.durations import parse_duration

    logging.basicConfig(level=logging.INFO, format="flowrun serve: %(message)s", stream=sys.stderr)
    folders = [f.resolve() for f in (args.folders or [_workspace()])]
    missing = [f for f in folders if not f.exists()]
    if missing:
        print(f"flowrun serve: {missing[0]}: no such folder", file=sys.stderr)
        return 2
    python = known_executable(args.python, through_shims=False) or args.python or sys.executable
    options = ServeOptions(
        folders=folders,
        host=args.host,
        port=args.port,
        max_concurrent=max(1, args.max_concurrent),
        queue_size=max(0, args.queue_size),
        warm=max(0, args.warm),
        db=args.db,
        grace=float(parse_duration(args.grace)),
        log_format=args.log_format,
        max_body=parse_size(args.max_body),
        python=python,
        retention=args.retention,
        queue=args.queue,
    )
    try:
        table, problems = load_table(folders)
    except RouteConflict as exc:
        print("flowrun serve: two workflows on one route; not starting:", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 1
    for problem in problems:
        print("\n".join(problem.lines), file=sys.stderr)
    for line in startup_report(options, table):
        print(f"flowrun serve: {line}", file=sys.stderr)
    if not table.routes:
        print("flowrun serve: no http workflow to serve (yet); watching for one", file=sys.stderr)
    return run(options, table, python)


def _workspace() -> Path:
    from flowrun.history.store import default_db_path

    return default_db_path(Path.cwd()).parent.parent
