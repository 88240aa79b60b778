"""What `flowrun run` shows while the run goes and when it ends.

`--json`: nothing but the tree (a refused run: the error object); a pipe: plain progress
and log lines on stderr, then the tree; a terminal: a Rich live table, log lines printed
above it, then the tree. `--quiet` leaves the log lines out. Rich is loaded only by the
terminal view, and by the others when they print the tree.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from flowrun.cli.progress import ProgressLines
from flowrun_engine import events as ev


class View:
    """--json."""

    def on_event(self, execution_id: str, event: dict[str, Any]) -> None:
        pass

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def finish(self, tree: Mapping[str, Any]) -> None:
        print_json(tree)


class PlainView(View):
    def __init__(self, *, logs: bool) -> None:
        self.lines = ProgressLines(sys.stderr, logs=logs)

    def on_event(self, execution_id: str, event: dict[str, Any]) -> None:
        self.lines.update(event)

    def finish(self, tree: Mapping[str, Any]) -> None:
        from rich.console import Console

        from flowrun.cli.render import print_execution

        print_execution(Console(), tree)


class LiveView(PlainView):
    def __init__(self, *, logs: bool) -> None:
        super().__init__(logs=logs)
        from rich.console import Console
        from rich.live import Live

        from flowrun.cli.live import LiveTable

        self.console = Console(stderr=True)
        self.live = Live(
            LiveTable(self.lines.progress),
            console=self.console,
            refresh_per_second=8,
            transient=True,
        )

    def on_event(self, execution_id: str, event: dict[str, Any]) -> None:
        progress = self.lines.progress
        progress.update(event)
        if event.get("event") == ev.NODE_LOG and self.lines.logs:
            from flowrun.cli.live import log_text

            self.console.print(log_text(event, progress.id_width), highlight=False)

    def start(self) -> None:
        self.live.start()

    def close(self) -> None:
        self.live.stop()


def make_view(as_json: bool, quiet: bool) -> View:
    if as_json:
        return View()
    if sys.stderr.isatty():
        return LiveView(logs=not quiet)
    return PlainView(logs=not quiet)


def show_install(line: str) -> None:
    """A line of `--install-missing`'s pip install (before any view exists), on stderr."""
    print(f"pip | {line}", file=sys.stderr, flush=True)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
