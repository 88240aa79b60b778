"""RunService end to end: real validator, real engine child, real SQLite history."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flowrun.history.store import HistoryStore
from flowrun.runs.errors import (
    DependencyError,
    InvalidInput,
    InvalidTrigger,
    MissingSecret,
    PythonNotFound,
    UnknownExecution,
    WorkflowInvalid,
)
from flowrun.runs.launch import EngineLocation
from flowrun.runs.process_groups import pid_alive
from flowrun.runs.rerun import Rerun, upstream_nodes
from flowrun.runs.service import RunService

FAKE = EngineLocation(Path(__file__).parent / "fake_engines" / "fake_engine.py", "fake_engine")

CHAIN = """\
version: 1
inputs:
  name: {type: string, default: world}
nodes:
  - id: a
    type: transform
    with: {value: "hello ${{ inputs.name }}"}
  - id: b
    type: shell
    needs: [a]
    with: {run: "echo ${{ nodes.a.output }}"}
  - id: c
    type: python
    needs: [b]
    with:
      code: |
        def main(text):
            print("c saw", text)
            return {"upper": text.upper()}
      args: {text: "${{ nodes.b.output.stdout }}"}
outputs:
  result: ${{ nodes.c.output.upper }}
"""

SLEEPER = """\
version: 1
nodes:
  - id: sleeper
    type: shell
    with:
      run: "sleep 300 & echo $! > {pidfile}; echo $$ >> {pidfile}; wait"
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


class Events:
    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, execution_id: str, event: dict[str, Any]) -> None:
        self.items.append((execution_id, event))

    def names(self, execution_id: str) -> list[str]:
        return [e["event"] for eid, e in self.items if eid == execution_id]

    def of(self, execution_id: str, name: str) -> list[dict[str, Any]]:
        return [e for eid, e in self.items if eid == execution_id and e["event"] == name]


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[HistoryStore]:
    opened = await HistoryStore.open(tmp_path / ".flowrun" / "history.sqlite3")
    yield opened
    await opened.close()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
async def service(store: HistoryStore, events: Events) -> AsyncIterator[RunService]:
    running = RunService(store, python=sys.executable, on_event=events, grace=1.0)
    yield running
    await running.shutdown()


async def wait_for_file(path: Path, lines: int = 1, seconds: float = 30) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            found = path.read_text().split()
            if len(found) >= lines:
                return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} was not written")


async def test_a_run_records_its_tree_and_streams_events(
    tmp_path: Path, service: RunService, store: HistoryStore, events: Events
) -> None:
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    execution_id = await service.execute(path, inputs={"name": "flowrun"})
    assert len(execution_id) == 32
    assert await service.wait(execution_id) == "succeeded"
    assert service.running() == []
    tree = await store.execution_tree(execution_id)
    assert tree["status"] == "succeeded"
    assert tree["outputs"] == {"result": "HELLO FLOWRUN"}
    assert [child["status"] for child in tree["children"]] == ["succeeded"] * 3
    names = events.names(execution_id)
    assert names[0] == "execution_started" and names[-1] == "execution_finished"
    assert any(log["text"] == "c saw hello flowrun" for log in tree["children"][2]["logs"])
    # finished runs: wait() reads the store
    assert await service.wait(execution_id) == "succeeded"
    assert not await service.stop(execution_id)


async def test_wait_on_another_process_execution_reads_the_store(
    tmp_path: Path, store: HistoryStore
) -> None:
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    first = RunService(store, python=sys.executable)
    execution_id = await first.execute(path)
    await first.wait(execution_id)
    second = RunService(store, python=sys.executable)
    assert await second.wait(execution_id) == "succeeded"
    with pytest.raises(UnknownExecution):
        await second.wait("0" * 32)


async def test_an_invalid_file_is_refused_and_nothing_is_recorded(
    tmp_path: Path, service: RunService, store: HistoryStore
) -> None:
    path = write(tmp_path, "bad.workflow.yml", "version: 1\nnodes:\n  - id: a\n    type: nope\n")
    with pytest.raises(WorkflowInvalid) as caught:
        await service.execute(path)
    assert caught.value.diagnostics
    assert caught.value.error["type"] == "ValidationError"
    assert await store.list_executions() == []


async def test_unsaved_editor_text_is_what_runs(tmp_path: Path, service: RunService) -> None:
    path = write(tmp_path, "x.workflow.yml", "version: 1\nnodes: [}\n")
    text = "version: 1\nnodes:\n  - {id: a, type: transform, with: {value: 7}}\n"
    execution_id = await service.execute(path, text=text)
    assert await service.wait(execution_id) == "succeeded"


async def test_bad_inputs_and_triggers_are_refused(tmp_path: Path, service: RunService) -> None:
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    with pytest.raises(InvalidInput, match="unknown input"):
        await service.execute(path, inputs={"nope": 1})
    http = (
        "version: 1\ntrigger:\n  type: http\n  method: POST\n  path: /x\n"
        "nodes:\n  - {id: a, type: transform, with: {value: '${{ trigger.body }}'}}\n"
    )
    path = write(tmp_path, "http.workflow.yml", http)
    with pytest.raises(InvalidTrigger):
        await service.execute(path, trigger={"headers": ["x"]})


async def test_missing_interpreter(tmp_path: Path, service: RunService) -> None:
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    with pytest.raises(PythonNotFound) as caught:
        await service.execute(path, python=str(tmp_path / "bin" / "python9"))
    assert "does not exist" in caught.value.message
    assert "--python" in (caught.value.suggestion or "")


async def test_too_old_interpreter(tmp_path: Path, service: RunService) -> None:
    old = write(
        tmp_path,
        "python3.9",
        '#!/bin/sh\necho \'{"executable": "/usr/bin/python3.9", "version": "3.9.2", '
        '"missing": []}\'\n',
    )
    old.chmod(0o755)
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    with pytest.raises(PythonNotFound, match=r"Python 3\.9\.2.*3\.11 or newer"):
        await service.execute(path, python=str(old))


async def test_missing_package_lists_the_pip_command(
    tmp_path: Path, service: RunService, store: HistoryStore
) -> None:
    text = CHAIN.replace("version: 1\n", "version: 1\nrequires: [PyYAML, no-such-pkg-xyz>=1]\n")
    path = write(tmp_path, "req.workflow.yml", text)
    with pytest.raises(DependencyError) as caught:
        await service.execute(path)
    error = caught.value.error
    assert error["missing"] == ["no-such-pkg-xyz>=1"]
    assert error["command"] == [sys.executable, "-m", "pip", "install", "no-such-pkg-xyz>=1"]
    assert "pip install 'no-such-pkg-xyz>=1'" in error["message"]
    assert await store.list_executions() == []


async def test_a_version_the_specifier_excludes_is_like_a_missing_package(
    tmp_path: Path, service: RunService, store: HistoryStore
) -> None:
    import yaml

    text = CHAIN.replace("version: 1\n", "version: 1\nrequires: [PyYAML>=99, pytest]\n")
    path = write(tmp_path, "req.workflow.yml", text)
    with pytest.raises(DependencyError) as caught:
        await service.execute(path)
    error = caught.value.error
    assert error["missing"] == ["PyYAML>=99"]
    assert error["command"] == [sys.executable, "-m", "pip", "install", "PyYAML>=99"]
    assert f"PyYAML>=99 ({yaml.__version__} installed)" in error["message"]
    assert "pip install 'PyYAML>=99'" in error["message"]
    assert await store.list_executions() == []


async def test_install_missing_installs_then_runs(tmp_path: Path, store: HistoryStore) -> None:
    # a stand-in interpreter: answers the probe from a state file, "installs" by writing it
    state = tmp_path / "installed"
    fake = write(
        tmp_path,
        "fakepython",
        f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "Successfully installed $4"; \
echo yes > {state}; exit 0; fi
if [ "$1" = "-c" ] && [ -z "$4" ] && [ -f {state} ]; then \
printf '{{"executable": "%s", "version": "3.11.7", "missing": []}}' "$0"; exit 0; fi
if [ "$1" = "-c" ] && [ -z "$4" ]; then \
printf '{{"executable": "%s", "version": "3.11.7", "missing": ["fancy-pkg"]}}' "$0"; exit 0; fi
exec {sys.executable} "$@"
""",
    )
    fake.chmod(0o755)
    text = CHAIN.replace("version: 1\n", "version: 1\nrequires: [fancy-pkg]\n")
    path = write(tmp_path, "req.workflow.yml", text)
    lines: list[str] = []
    service = RunService(store, python=str(fake), on_install=lines.append)
    with pytest.raises(DependencyError, match="--install-missing"):
        await service.execute(path)
    assert lines == []
    execution_id = await service.execute(path, install_missing=True)
    assert state.exists()
    assert lines == [
        f"Installing fancy-pkg into {fake} …",
        "Successfully installed fancy-pkg",
        "Installed fancy-pkg.",
    ]
    assert await service.wait(execution_id) == "succeeded"


async def test_failed_install_is_a_dependency_error(tmp_path: Path, store: HistoryStore) -> None:
    fake = write(
        tmp_path,
        "fakepython",
        f"""#!/bin/sh
if [ "$1" = "-m" ]; then echo "ERROR: No matching distribution found for fancy-pkg"; exit 1; fi
echo '{{"executable": "{sys.executable}", "version": "3.12.1", "missing": ["fancy-pkg"]}}'
""",
    )
    fake.chmod(0o755)
    text = CHAIN.replace("version: 1\n", "version: 1\nrequires: [fancy-pkg]\n")
    path = write(tmp_path, "req.workflow.yml", text)
    service = RunService(store, python=str(fake))
    with pytest.raises(DependencyError, match="No matching distribution"):
        await service.execute(path, install_missing=True)


async def test_stop_ends_the_run_and_every_process_of_it(
    tmp_path: Path, service: RunService, store: HistoryStore, events: Events
) -> None:
    pidfile = tmp_path / "pids"
    path = write(tmp_path, "sleep.workflow.yml", SLEEPER.format(pidfile=pidfile))
    execution_id = await service.execute(path)
    pids = [int(p) for p in await wait_for_file(pidfile, 2)]
    assert service.running() == [execution_id]
    assert all(alive(pid) for pid in pids)
    _, pgid = await store.process_of(execution_id)
    assert pgid is not None and alive(pgid)
    assert await service.stop(execution_id)
    assert await service.wait(execution_id) == "stopped"
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in [*pids, pgid]) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not any(alive(pid) for pid in [*pids, pgid])
    tree = await store.execution_tree(execution_id)
    assert tree["status"] == "stopped"
    assert tree["children"][0]["status"] == "stopped"
    assert events.names(execution_id)[-1] == "execution_finished"


async def test_timeout_ends_the_run_timed_out(
    tmp_path: Path, service: RunService, store: HistoryStore
) -> None:
    pidfile = tmp_path / "pids"
    path = write(tmp_path, "sleep.workflow.yml", SLEEPER.format(pidfile=pidfile))
    execution_id = await service.execute(path, timeout=0.5)
    assert await asyncio.wait_for(service.wait(execution_id), 30) == "timed_out"
    tree = await store.execution_tree(execution_id)
    assert tree["status"] == "timed_out"
    pids = [int(p) for p in pidfile.read_text().split()]
    await asyncio.sleep(0)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


async def test_runs_beyond_max_concurrent_wait_in_the_queue(
    tmp_path: Path, store: HistoryStore
) -> None:
    service = RunService(store, python=sys.executable, max_concurrent=1, grace=1.0)
    pidfile = tmp_path / "pids"
    path = write(tmp_path, "sleep.workflow.yml", SLEEPER.format(pidfile=pidfile))
    first = await service.execute(path)
    second = await service.execute(path)
    third = await service.execute(path)
    await wait_for_file(pidfile, 2)
    assert await store.status_of(second) == "queued"
    # a queued run stops at once, without spawning
    assert await service.stop(second)
    assert await service.wait(second) == "stopped"
    assert await store.status_of(third) == "queued"
    await service.shutdown()
    assert await service.wait(first) == "stopped"
    assert await service.wait(third) == "stopped"
    assert service.running() == []


async def test_raising_max_concurrent_starts_queued_runs(
    tmp_path: Path, store: HistoryStore
) -> None:
    service = RunService(store, python=sys.executable, max_concurrent=1, grace=1.0)
    pidfiles = [tmp_path / "first.pids", tmp_path / "second.pids"]
    paths = [
        write(tmp_path, f"sleep{n}.workflow.yml", SLEEPER.format(pidfile=pidfile))
        for n, pidfile in enumerate(pidfiles)
    ]
    first = await service.execute(paths[0])
    second = await service.execute(paths[1])
    await wait_for_file(pidfiles[0], 2)
    assert await store.status_of(second) == "queued"
    await service.set_max_concurrent(2)
    await wait_for_file(pidfiles[1], 2)  # its turn came without the first ending
    assert sorted(service.running()) == sorted([first, second])
    await service.shutdown()
    assert [await service.wait(eid) for eid in (first, second)] == ["stopped", "stopped"]


async def test_finished_runs_are_not_kept_in_memory(
    tmp_path: Path, service: RunService, store: HistoryStore
) -> None:
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    execution_id = await service.execute(path)
    assert await service.wait(execution_id) == "succeeded"
    await asyncio.sleep(0)  # the task's done-callbacks run on the next loop turn
    assert execution_id not in service._runs
    assert await service.wait(execution_id) == "succeeded"  # answered by the store


async def test_run_from_a_node_reuses_upstream_outputs(
    tmp_path: Path, service: RunService, store: HistoryStore, events: Events
) -> None:
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    first = await service.execute(path)
    await service.wait(first)
    again = await service.execute(path, start=Rerun(first[:8], "c"))
    assert await service.wait(again) == "succeeded"
    finished = {e["node"]: e for e in events.of(again, "node_finished")}
    assert finished["a"].get("given") and finished["b"].get("given")
    assert not finished["c"].get("given")
    assert events.of(again, "execution_finished")[0]["outputs"] == {"result": "HELLO WORLD"}
    # without an execution: the latest one of the workflow
    latest = await service.execute(path, start=Rerun(from_node="b"))
    await service.wait(latest)
    finished = {e["node"]: e for e in events.of(latest, "node_finished")}
    assert finished["a"].get("given") and not finished["b"].get("given")
    # from_execution alone re-runs everything
    whole = await service.execute(path, start=Rerun(first))
    await service.wait(whole)
    assert not any(e.get("given") for e in events.of(whole, "node_finished"))


async def test_run_from_a_node_of_a_workflow_never_run(
    tmp_path: Path, service: RunService, events: Events
) -> None:
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    execution_id = await service.execute(path, start=Rerun(from_node="c"))
    assert await service.wait(execution_id) == "succeeded"
    assert not any(e.get("given") for e in events.of(execution_id, "node_finished"))


def test_upstream_nodes_follow_needs_sequence_and_stages() -> None:
    workflow = {
        "stages": [
            {"id": "one", "mode": "sequential", "nodes": [{"id": "a"}, {"id": "b"}]},
            {
                "id": "two",
                "mode": "parallel",
                "nodes": [{"id": "c"}, {"id": "d", "needs": "c"}, {"id": "e", "needs": []}],
            },
        ]
    }
    assert upstream_nodes(workflow, "b") == {"a"}
    assert upstream_nodes(workflow, "d") == {"a", "b", "c"}
    assert upstream_nodes(workflow, "e") == {"a", "b"}
    assert upstream_nodes(workflow, "a") == set()


SECRET_FLOW = """\
version: 1
secrets: [MY_TOKEN]
nodes:
  - id: use
    type: python
    with:
      code: |
        import os
        def main(token):
            print("token", token, os.environ["MY_TOKEN"])
            return {"token": token, "mode": os.environ["FLOWRUN_EXECUTION_MODE"]}
      args: {token: "${{ secrets.MY_TOKEN }}"}
outputs:
  token: ${{ nodes.use.output.token }}
"""


async def test_secrets_come_from_dotenv_and_never_reach_history(
    tmp_path: Path,
    service: RunService,
    store: HistoryStore,
    events: Events,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MY_TOKEN", raising=False)
    path = write(tmp_path, "secret.workflow.yml", SECRET_FLOW)
    with pytest.raises(MissingSecret, match="MY_TOKEN"):
        await service.execute(path)
    write(tmp_path, ".env", "# test\nexport MY_TOKEN='tok-from-dotenv-123'\n")
    execution_id = await service.execute(path)
    assert await service.wait(execution_id) == "succeeded"
    tree = await store.execution_tree(execution_id)
    dumped = json.dumps(tree) + json.dumps(events.items)
    assert "tok-from-dotenv-123" not in dumped
    assert tree["children"][0]["output"] == {"token": "***", "mode": "test"}
    raw = b"".join(p.read_bytes() for p in (tmp_path / ".flowrun").iterdir() if p.is_file())
    assert b"tok-from-dotenv-123" not in raw


async def test_the_environment_wins_over_dotenv(
    tmp_path: Path,
    store: HistoryStore,
    events: Events,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_TOKEN", "from-environment")
    write(tmp_path, ".env", "MY_TOKEN=from-dotenv\n")
    service = RunService(store, python=sys.executable, on_event=events, mode="production")
    path = write(tmp_path, "secret.workflow.yml", SECRET_FLOW)
    execution_id = await service.execute(path)
    assert await service.wait(execution_id) == "succeeded"
    logs = [e["text"] for e in events.of(execution_id, "node_log")]
    assert logs == ["token *** ***"]
    output = events.of(execution_id, "node_finished")[0]["output"]
    assert output["mode"] == "production"


async def test_provider_keys_reach_llm_workflows_redacted(
    tmp_path: Path, store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk-test-provider-key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-this-workflow")
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".env", "ANTHROPIC_API_KEY=sk-ant-not-declared\nXAI_API_KEY=xai-nope\n")
    service = RunService(store, python=sys.executable, engine=FAKE)
    text = (
        "version: 1\nnodes:\n  - id: ask\n    type: llm\n    with: {provider: groq, "
        "model: m, prompt: hi, base_url: 'http://127.0.0.1:9'}\n"
    )
    path = write(tmp_path, "llm.workflow.yml", text)
    captured: dict[str, Any] = {}
    original = service._child

    def spy(spec: Any) -> Any:
        captured["spec"] = spec
        spec.payload["fake"] = "ok"
        return original(spec)

    monkeypatch.setattr(service, "_child", spy)
    execution_id = await service.execute(path)
    await service.wait(execution_id)
    spec = captured["spec"]
    # only the key of the provider the node names: not every provider key that is set
    assert spec.secrets == {"GROQ_API_KEY": "gsk-test-provider-key"}
    assert spec.payload["workflow"]["secrets"] == ["GROQ_API_KEY"]


async def test_an_agent_workflow_gets_its_declared_secrets_and_its_provider_key_only(
    tmp_path: Path, store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY", "XAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".git").mkdir()
    write(
        tmp_path,
        ".env",
        "ANTHROPIC_API_KEY=sk-ant-key\nOPENAI_API_KEY=sk-openai\nGROQ_API_KEY=gsk-groq\n"
        "MY_TOKEN=tok-1234\n",
    )
    service = RunService(store, python=sys.executable, engine=FAKE)
    text = (
        "version: 1\nsecrets: [MY_TOKEN]\nnodes:\n  - id: code\n    type: agent\n"
        "    with: {provider: claude-code, prompt: hi}\n"
        "  - id: ask\n    type: llm\n"
        "    with: {provider: '${{ inputs.p }}', model: m, prompt: hi}\n"
        "inputs:\n  p: {type: string, default: openai}\n"
    )
    path = write(tmp_path, "agent.workflow.yml", text)
    captured: dict[str, Any] = {}
    original = service._child

    def spy(spec: Any) -> Any:
        captured["spec"] = spec
        spec.payload["fake"] = "ok"
        return original(spec)

    monkeypatch.setattr(service, "_child", spy)
    await service.wait(await service.execute(path))
    spec = captured["spec"]
    assert spec.secrets == {"MY_TOKEN": "tok-1234", "ANTHROPIC_API_KEY": "sk-ant-key"}
    assert spec.payload["workflow"]["secrets"] == ["MY_TOKEN", "ANTHROPIC_API_KEY"]


async def test_engine_crash_fails_the_run(
    tmp_path: Path, store: HistoryStore, events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = RunService(store, python=sys.executable, on_event=events, engine=FAKE)
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    original = service._child

    def crash(spec: Any) -> Any:
        spec.payload["fake"] = "crash"
        return original(spec)

    monkeypatch.setattr(service, "_child", crash)
    execution_id = await service.execute(path)
    assert await service.wait(execution_id) == "failed"
    tree = await store.execution_tree(execution_id)
    assert tree["error"]["type"] == "ExecutionError"
    assert "exit code 3" in tree["error"]["message"]


async def test_an_interpreter_gone_before_the_spawn_fails_the_run(
    tmp_path: Path, store: HistoryStore, events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = RunService(store, python=sys.executable, on_event=events)
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    original = service._child

    def vanish(spec: Any) -> Any:
        return original(spec._replace(python=str(tmp_path / "gone" / "python")))

    monkeypatch.setattr(service, "_child", vanish)
    execution_id = await service.execute(path)
    assert await service.wait(execution_id) == "failed"
    tree = await store.execution_tree(execution_id)
    assert tree["error"]["type"] == "PythonNotFound"
    assert events.names(execution_id) == ["execution_finished"]


async def test_callbacks_may_be_sync_or_fail(tmp_path: Path, store: HistoryStore) -> None:
    seen: list[str] = []

    def sync_callback(execution_id: str, event: dict[str, Any]) -> None:
        seen.append(event["event"])
        if event["event"] == "node_started":
            raise RuntimeError("a broken listener")

    service = RunService(store, python=sys.executable, on_event=sync_callback)
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    execution_id = await service.execute(path)
    assert await service.wait(execution_id) == "succeeded"
    assert seen[-1] == "execution_finished"


async def test_default_python_comes_from_flowrun_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flowrun.runs.launch import default_python

    monkeypatch.setenv("FLOWRUN_PYTHON", "/opt/py/bin/python")
    assert default_python() == "/opt/py/bin/python"
    monkeypatch.delenv("FLOWRUN_PYTHON")
    assert default_python() is None
    assert os.environ.get("FLOWRUN_PYTHON") is None


async def test_a_valid_file_is_not_validated_twice(
    tmp_path: Path, service: RunService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowrun.runs import prepare

    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    assert await service.wait(await service.execute(path)) == "succeeded"
    assert len(list((tmp_path / "cache" / "flowrun" / "resolved").glob("*.json"))) == 1

    def no_validation(path: Path, text: str | None) -> Any:
        raise AssertionError("validated again")

    monkeypatch.setattr(prepare, "_validate", no_validation)
    assert await service.wait(await service.execute(path)) == "succeeded"
    # other inputs, or another text: validated again
    with pytest.raises(AssertionError, match="validated again"):
        await service.execute(path, inputs={"name": "x"})
    path.write_text(CHAIN + "# changed\n")
    with pytest.raises(AssertionError, match="validated again"):
        await service.execute(path)
    monkeypatch.setenv("FLOWRUN_NO_CACHE", "1")
    path.write_text(CHAIN)
    with pytest.raises(AssertionError, match="validated again"):
        await service.execute(path)


async def test_a_broken_cache_is_ignored(tmp_path: Path, service: RunService) -> None:
    from flowrun.runs import resolved_cache

    folder = tmp_path / "cache" / "flowrun" / "resolved"
    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    key = resolved_cache.cache_key(path.resolve(), CHAIN, None, None)
    folder.mkdir(parents=True)
    (folder / f"{key}.json").write_text("{broken")
    assert await service.wait(await service.execute(path)) == "succeeded"
    (folder / f"{key}.json").write_text('{"resolved": 1}')
    assert resolved_cache.load_entry(key) is None
    assert resolved_cache.cache_key(path, "x", {"bad": object()}, None) is None
    for index in range(resolved_cache.MAX_ENTRIES + 3):
        resolved_cache.store_entry(f"k{index}", {"resolved": {}})
    assert len(list(folder.glob("*.json"))) == resolved_cache.MAX_ENTRIES
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    os.environ["XDG_CACHE_HOME"] = str(blocked)  # restored by the own_cache fixture
    resolved_cache.store_entry("other", {"resolved": {}})  # unwritable: ignored


async def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path, service: RunService) -> None:
    path = tmp_path / "latin.workflow.yml"
    path.write_bytes(b"version: 1\nname: caf\xe9\nnodes: []\n")
    with pytest.raises(WorkflowInvalid):
        await service.execute(path)


async def test_a_history_that_cannot_record_stops_the_started_child(
    tmp_path: Path, service: RunService, store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowrun.runs import process_groups

    path = write(tmp_path, "chain.workflow.yml", CHAIN)
    assert await service.wait(await service.execute(path)) == "succeeded"  # now cached

    async def broken(**kwargs: Any) -> None:
        raise OSError("disk full")

    async def finish_fails(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    original = store.create_execution
    monkeypatch.setattr(store, "create_execution", broken)
    with pytest.raises(OSError, match="disk full"):
        await service.execute(path)
    assert process_groups.live_pids() == frozenset()
    monkeypatch.setattr(store, "create_execution", original)
    # the end of a run that cannot be recorded is logged; the run still ends
    monkeypatch.setattr(store, "finish", finish_fails)
    assert await service.wait(await service.execute(path)) == "succeeded"


async def test_stop_right_after_execute(tmp_path: Path, store: HistoryStore) -> None:
    service = RunService(store, python=sys.executable, max_concurrent=1, grace=1.0)
    pidfile = tmp_path / "pids"
    path = write(tmp_path, "sleep.workflow.yml", SLEEPER.format(pidfile=pidfile))
    first = await service.execute(path)
    assert await service.stop(first)  # before its task even ran
    queued = await service.execute(path)
    assert await service.stop(queued)
    assert await service.wait(first) == "stopped"
    assert await service.wait(queued) == "stopped"
    assert await store.status_of(queued) == "stopped"
    cached = await service.execute(path)  # known valid now: its child starts at once
    assert await service.stop(cached)
    assert await service.wait(cached) == "stopped"
    assert service.running() == []


ESCAPES = """\
version: 1
nodes:
  - id: leave
    type: python
    with:
      code: |
        import subprocess
        def main():
            return subprocess.Popen(["sleep", "300"], start_new_session=True).pid
"""


async def test_runs_that_leave_a_detached_process_do_not_hold_the_slots(
    tmp_path: Path, store: HistoryStore
) -> None:
    """Issue 12.1: such runs used to last as long as the orphan held the engine's stdout."""
    path = write(tmp_path, "leave.workflow.yml", ESCAPES)
    service = RunService(store, python=sys.executable, max_concurrent=1, grace=1.0)
    try:
        ids = [await service.execute(path) for _ in range(3)]
        assert [await service.wait(eid) for eid in ids] == ["succeeded"] * 3
    finally:
        await service.shutdown()
    for execution_id in ids:
        tree = await store.execution_tree(execution_id)
        pid = tree["children"][0]["output"]
        assert not pid_alive(pid), "the detached sleep outlived its run"
