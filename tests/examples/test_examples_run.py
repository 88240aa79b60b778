"""Every example workflow runs offline to success through `flowrun run --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.workflow.y*ml"))
PROVIDER_KEYS = ("OPENAI_API_KEY", "GROQ_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY")


def test_there_are_examples() -> None:
    assert EXAMPLES, "examples/*.workflow.yml"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_to_success(path: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_KEYS}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-m", "flowrun", "run", str(path), "--json",
         "--python", sys.executable, "--db", str(tmp_path / "history.sqlite3")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout[-3000:]
    tree = json.loads(done.stdout)
    assert tree["status"] == "succeeded"
    assert tree["error"] is None
