"""What `flowrun batch` shows while it runs: a Rich progress bar on a terminal (done, failed,
running, rate, ETA), and one summary line at the end everywhere."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from flowrun.batch.results import RowResult


class BatchProgress:
    def __init__(self, total: int, console: Console) -> None:
        self.total = total
        self.succeeded = self.failed = self.running = 0
        self._console = console
        self._started = time.monotonic()
        self.bar = Progress(  # `with progress.bar:` shows it while the rows run
            TextColumn("batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
            transient=True,
        )
        self._task = self.bar.add_task("batch", total=total, counts=self._counts())

    def update(self, _index: int, result: RowResult | None) -> None:
        """A row started (`result` None) or ended."""
        if result is None:
            self.running += 1
        else:
            self.running -= 1
            if result["status"] == "succeeded":
                self.succeeded += 1
            else:
                self.failed += 1
        done = self.succeeded + self.failed
        self.bar.update(self._task, completed=done, counts=self._counts())

    def summary(self) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        done = self.succeeded + self.failed
        return (
            f"{self.succeeded} succeeded, {self.failed} failed of {self.total} "
            f"in {elapsed:.1f} s ({done / elapsed:.1f}/s)"
        )

    def _counts(self) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = (self.succeeded + self.failed) / elapsed
        return (
            f"[green]{self.succeeded} ok[/] [red]{self.failed} failed[/] "
            f"{self.running} running {rate:.1f}/s"
        )
