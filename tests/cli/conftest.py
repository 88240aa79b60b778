"""What the CLI tests share: `flowrun` through `main()` in this process (the `cli` fixture),
and the fake provider servers of tests/engine/fakes_net.py on the import path."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from flowrun.cli import main

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`cli("run", PATH, ...)` → (exit code, stdout, stderr) of `flowrun run PATH ...`, with
    a cache of its own (XDG_CACHE_HOME in tmp_path) and a 200-column terminal."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
