"""What a cold `flowrun` process loads before it works: properties the start-up time rests on."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowrun.cli import COMMAND_MODULES, build_parser, exit_now
from fresh_validate import fresh_validate

ONE = "version: 1\nnodes:\n  - {id: one, type: transform, with: {value: 1}}\n"

# Runs `flowrun run FILE --json` in this fresh process, noting what was loaded when the engine
# child was spawned (early, or the usual way).
SPY = """
import json, sys
before = set(sys.modules)  # coverage, under --cov
from flowrun.runs import prespawn, supervisor
seen = {}
early = prespawn.prespawn
def spy(spec):
    heavy = ("asyncio", "aiosqlite", "rich", "ssl")
    seen["early"] = sorted(m for m in heavy if m in sys.modules and m not in before)
    return early(spec)
prespawn.prespawn = spy
usual = supervisor.spawn_engine
def usual_spy(spec):
    seen["usual"] = True
    return usual(spec)
supervisor.spawn_engine = usual_spy
from flowrun.runs import prepare
validate = prepare._validate
def validate_spy(path, text):
    seen["validated"] = seen.get("validated", 0) + 1
    return validate(path, text)
prepare._validate = validate_spy
from flowrun.cli import main
code = main(["run", sys.argv[1], "--json", "--python", sys.executable])
print(json.dumps(seen), file=sys.stderr)
sys.exit(code)
"""


def run_spied(path: Path, env: dict[str, str]) -> tuple[dict[str, object], dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", SPY, str(path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), json.loads(done.stderr.strip().splitlines()[-1])


def test_the_engine_is_spawned_before_asyncio_loads(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "one.workflow.yml"
    path.write_text(ONE)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    tree, seen = run_spied(path, env)  # first run: validated (once) before the spawn, cached
    assert tree["status"] == "succeeded" and seen == {"validated": 1, "early": []}
    tree, seen = run_spied(path, env)
    assert tree["status"] == "succeeded" and seen == {"early": []}
    assert tree["id"] and len(tree["id"]) == 32
    # without the cache, every run is a first run: validated once, the engine spawned early
    tree, seen = run_spied(path, dict(env, FLOWRUN_NO_CACHE="1"))
    assert tree["status"] == "succeeded" and seen == {"validated": 1, "early": []}


def test_an_invalid_file_spawns_no_engine(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "bad.workflow.yml"
    path.write_text("version: 1\nnodes:\n  - {id: one, type: nope}\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "-c", SPY, str(path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 1 and "unknown-node-type" in done.stdout
    seen = json.loads(done.stderr.strip().splitlines()[-1])
    assert "early" not in seen and "usual" not in seen


def test_commands_register_without_asyncio() -> None:
    code = (  # what this process loaded already (coverage does, under --cov) does not count
        "import sys; before = set(sys.modules);"
        "from flowrun.cli import build_parser; build_parser();"
        "print(sorted(m for m in ('asyncio', 'logging', 'datetime', 'ssl')"
        " if m in sys.modules and m not in before))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module", list(COMMAND_MODULES))
def test_each_command_module_registers_the_commands_listed_for_it(module: str) -> None:
    parser = build_parser(COMMAND_MODULES[module][0])
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert tuple(subparsers.choices) == COMMAND_MODULES[module]


def test_a_command_loads_no_other_command_module(tmp_path: Path) -> None:
    path = tmp_path / "a.workflow.yml"
    path.write_text(ONE)
    done = fresh_validate(path)
    commands = [m for m in done.loaded if m.startswith("flowrun.cli.") and m.endswith("_cmd")]
    assert (commands, done.code) == (["flowrun.cli.validate_cmd"], 0)


def test_the_console_command_exits_with_the_run_status(tmp_path: Path) -> None:
    """`flowrun run` ends without the interpreter's teardown: output and exit code stay."""
    (tmp_path / ".git").mkdir()
    path = tmp_path / "fails.workflow.yml"
    path.write_text("version: 1\nnodes:\n  - {id: bad, type: shell, with: {run: 'exit 3'}}\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    for _ in range(2):  # validated, then from the cache with an early child
        done = subprocess.run(
            [sys.executable, "-m", "flowrun", "run", str(path), "--json", "--python",
             sys.executable],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert json.loads(done.stdout)["status"] == "failed"


def test_exit_now_leaves_a_broken_stdout_to_the_usual_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Closed(io.StringIO):
        def flush(self) -> None:
            raise ValueError("I/O operation on closed file")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert exit_now(1) is None  # returned: this process goes on
