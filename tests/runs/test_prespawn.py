"""`early_child` + `execute(prespawned=...)`: the child of a cached file, spawned before asyncio.

Real validator, real engine child, real SQLite history.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flowrun.history.store import HistoryStore
from flowrun.pyenv.known import known_executable
from flowrun.runs import resolved_cache, supervisor
from flowrun.runs.errors import PythonNotFound, WorkflowInvalid
from flowrun.runs.launch import new_execution_id
from flowrun.runs.prespawn import early_child
from flowrun.runs.process_groups import live_pids
from flowrun.runs.service import RunService

TOUCH = """\
version: 1
nodes:
  - id: touch
    type: shell
    with: {run: "echo ran >> ran.txt"}
"""

REQUIRES = """\
version: 1
requires: [pyyaml]
nodes:
  - id: one
    type: transform
    with: {value: 1}
"""

SECRET = """\
version: 1
secrets: [FLOWRUN_TEST_TOKEN]
nodes:
  - id: one
    type: transform
    with: {value: 1}
"""


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunService]:
    store = await HistoryStore.open(tmp_path / ".flowrun" / "history.sqlite3")
    running = RunService(store, python=sys.executable, grace=1.0)
    yield running
    await running.shutdown()
    await store.close()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


async def test_a_file_never_run_is_validated_before_its_child_is_spawned(
    tmp_path: Path, service: RunService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its child boots while the caller loads the rest, as a cached file's does; the run's
    `prepare` takes the entry validated here (validating once, cache or not)."""
    from flowrun.runs import prepare

    monkeypatch.setenv("FLOWRUN_NO_CACHE", "1")
    path = write(tmp_path, "touch.workflow.yml", TOUCH)
    early = early_child(path, python=sys.executable)
    assert early is not None and early.engine.popen.pid in live_pids()

    def no_validation(path: Path, text: str | None) -> object:
        raise AssertionError("validated again")

    monkeypatch.setattr(prepare, "_validate", no_validation)
    execution_id = await service.execute(path, prespawned=early)
    assert early.adopted and await service.wait(execution_id) == "succeeded"
    assert not (tmp_path / "cache" / "flowrun" / "resolved").exists()  # nothing stored


async def test_nothing_is_spawned_for_an_invalid_file(
    tmp_path: Path, service: RunService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """And the run is refused with what `early_child` found, without validating again."""
    from flowrun.runs import prepare

    bad = write(tmp_path, "bad.workflow.yml", "version: 1\nnodes: [{id: a, type: nope}]\n")
    assert early_child(bad, python=sys.executable) is None
    assert early_child(tmp_path / "none.workflow.yml", python=sys.executable) is None
    assert live_pids() == frozenset()

    def no_validation(path: Path, text: str | None) -> object:
        raise AssertionError("validated again")

    validate = prepare._validate
    monkeypatch.setattr(prepare, "_validate", no_validation)
    with pytest.raises(WorkflowInvalid) as refused:
        await service.execute(bad)
    assert "nope" in str(refused.value.diagnostics)
    monkeypatch.setattr(prepare, "_validate", validate)
    with pytest.raises(WorkflowInvalid):  # handed over once: the next run validates
        await service.execute(bad)


async def test_the_early_child_is_adopted(
    tmp_path: Path, service: RunService, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "touch.workflow.yml", TOUCH)
    assert await service.wait(await service.execute(path)) == "succeeded"  # now cached

    early = early_child(path, python=sys.executable)
    assert early is not None and early.engine.popen.pid in live_pids()

    async def no_spawn(*args: object) -> None:
        raise AssertionError("spawned a second child")

    monkeypatch.setattr(supervisor, "spawn_engine", no_spawn)
    execution_id = await service.execute(path, prespawned=early)
    assert early.adopted and execution_id == early.spec.execution_id
    assert await service.wait(execution_id) == "succeeded"
    assert (tmp_path / "ran.txt").read_text() == "ran\nran\n"
    assert early.engine.popen.pid not in live_pids() and not early.engine.scratch.exists()
    tree = await service.store.execution_tree(execution_id)
    assert tree["status"] == "succeeded"


async def test_a_shim_probed_once_gets_an_early_child_on_its_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pyenv/asdf shim is a script: only the probe of the first run sees the interpreter
    behind it. Later runs spawn that interpreter early, as for a plain executable."""
    shim = write(tmp_path, "python3", f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    shim.chmod(0o755)
    path = write(tmp_path, "touch.workflow.yml", TOUCH)
    store = await HistoryStore.open(tmp_path / ".flowrun" / "history.sqlite3")
    service = RunService(store, python=str(shim), grace=1.0)
    try:
        assert early_child(path, python=str(shim)) is None  # never probed: the usual path
        assert await service.wait(await service.execute(path)) == "succeeded"

        early = early_child(path, python=str(shim))
        assert early is not None and early.spec.python == sys.executable

        async def no_spawn(*args: object) -> None:
            raise AssertionError("spawned a second child")

        monkeypatch.setattr(supervisor, "spawn_engine", no_spawn)
        execution_id = await service.execute(path, prespawned=early)
        assert early.adopted and await service.wait(execution_id) == "succeeded"
        assert known_executable(str(shim), through_shims=False) is None
    finally:
        await service.shutdown()
        await store.close()


async def test_a_child_that_does_not_match_is_killed_before_it_runs(
    tmp_path: Path, service: RunService
) -> None:
    path = write(tmp_path, "touch.workflow.yml", TOUCH)
    assert await service.wait(await service.execute(path)) == "succeeded"

    early = early_child(path, python=sys.executable, timeout=5)  # execute gets no timeout
    assert early is not None
    execution_id = await service.execute(path, prespawned=early)
    assert not early.adopted and early.engine.popen.returncode is not None
    assert not early.engine.scratch.exists() and early.engine.popen.pid not in live_pids()
    status = await service.wait(execution_id)
    assert status == "succeeded", await service.store.execution_tree(execution_id)
    assert (tmp_path / "ran.txt").read_text() == "ran\nran\n"  # the early child ran nothing


async def test_a_refused_run_kills_the_early_child(tmp_path: Path, service: RunService) -> None:
    path = write(tmp_path, "touch.workflow.yml", TOUCH)
    assert await service.wait(await service.execute(path)) == "succeeded"
    early = early_child(path, python=sys.executable)
    assert early is not None
    with pytest.raises(PythonNotFound):
        await service.execute(path, python=str(tmp_path / "python9"), prespawned=early)
    assert early.engine.popen.returncode is not None and not early.engine.scratch.exists()


async def test_a_discarded_child_never_runs_the_workflow(
    tmp_path: Path, service: RunService
) -> None:
    path = write(tmp_path, "touch.workflow.yml", TOUCH)
    assert await service.wait(await service.execute(path)) == "succeeded"
    early = early_child(path, python=sys.executable)
    assert early is not None
    early.discard()
    assert early.engine.popen.returncode is not None
    assert (tmp_path / "ran.txt").read_text() == "ran\n"


async def test_no_early_child_when_the_usual_path_must_decide(
    tmp_path: Path, service: RunService, monkeypatch: pytest.MonkeyPatch
) -> None:
    requires = write(tmp_path, "requires.workflow.yml", REQUIRES)
    assert await service.wait(await service.execute(requires)) == "succeeded"
    assert early_child(requires, python=sys.executable) is None  # packages to check

    monkeypatch.setenv("FLOWRUN_TEST_TOKEN", "s3cret-value")
    secret = write(tmp_path, "secret.workflow.yml", SECRET)
    assert await service.wait(await service.execute(secret)) == "succeeded"
    monkeypatch.delenv("FLOWRUN_TEST_TOKEN")
    assert early_child(secret, python=sys.executable) is None  # a secret went missing

    shim = write(tmp_path, "python3", '#!/bin/sh\nexec python3 "$@"\n')
    shim.chmod(0o755)
    assert early_child(secret, python=str(shim)) is None  # a script: only a probe knows
    assert early_child(secret, python=str(tmp_path / "nothing")) is None


def test_known_executable_is_found_like_pyenv_finds_it(tmp_path: Path) -> None:
    name = os.path.basename(sys.executable)
    found = known_executable(name)
    assert found is None or os.path.isabs(found)
    assert known_executable(sys.executable) == sys.executable
    assert known_executable(str(tmp_path / "none")) is None
    assert known_executable("no-such-python-here") is None


def test_new_ids_look_like_uuid4() -> None:
    ids = {new_execution_id() for _ in range(100)}
    assert len(ids) == 100
    for value in ids:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


async def test_an_adopted_child_stopped_before_it_starts_is_killed(
    tmp_path: Path, service: RunService
) -> None:
    path = write(tmp_path, "touch.workflow.yml", TOUCH)
    assert await service.wait(await service.execute(path)) == "succeeded"
    early = early_child(path, python=sys.executable)
    assert early is not None

    async def on_event(event: dict[str, object]) -> None:
        pass

    child = supervisor.EngineChild(early.spec, on_event=on_event)
    child.adopt(early)
    await child.stop()
    result = await child.run()
    assert result.status == "stopped"
    assert early.engine.popen.returncode is not None and not early.engine.scratch.exists()
    assert (tmp_path / "ran.txt").read_text() == "ran\n"


async def test_options_and_the_default_interpreter_match_what_execute_builds(
    tmp_path: Path, service: RunService, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "touch.workflow.yml", TOUCH)
    assert await service.wait(await service.execute(path)) == "succeeded"
    early = early_child(path, python=sys.executable, timeout=30, max_parallel=2)
    assert early is not None
    execution_id = await service.execute(path, timeout=30, max_parallel=2, prespawned=early)
    assert early.adopted and await service.wait(execution_id) == "succeeded"
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    assert known_executable(None) is not None


def test_a_spec_shows_no_secret_values(tmp_path: Path) -> None:
    from flowrun.runs.launch import LaunchSpec

    spec = LaunchSpec("python", {}, "id", "wf", str(tmp_path), secrets={"TOKEN": "hunter22"})
    assert "hunter22" not in repr(spec) and "execution_id='id'" in repr(spec)
    assert spec == LaunchSpec(
        "python", {}, "id", "wf", str(tmp_path), secrets={"TOKEN": "hunter22"}
    )
    assert spec != LaunchSpec("python", {}, "other", "wf", str(tmp_path)) and spec != "spec"


def test_a_child_that_cannot_start_leaves_nothing(tmp_path: Path) -> None:
    from flowrun.runs.launch import LaunchSpec
    from flowrun.runs.prespawn import prespawn

    spec = LaunchSpec(str(tmp_path / "no-python"), {}, "id", "wf", str(tmp_path))
    before = {p.name for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("flowrun-run-*")}
    with pytest.raises(OSError):
        prespawn(spec)
    after = {p.name for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("flowrun-run-*")}
    assert after <= before


def test_a_broken_cache_entry_spawns_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "touch.workflow.yml", TOUCH)
    monkeypatch.setattr(resolved_cache, "load_entry", lambda key: {"resolved": {}})
    assert early_child(path, python=sys.executable) is None
