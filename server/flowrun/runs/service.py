"""`RunService`: validate, check the interpreter, record, spawn, wait, stop.

Shared by the CLI and the LSP; neither spawns a child itself. `execute` returns the new
execution's id at once; the run goes on in a background task, queued while
`max_concurrent` runs are going.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from flowrun.runs.errors import (
    DependencyError,
    FlowrunError,
    InvalidTrigger,
    PythonNotFound,
    WorkflowInvalid,
)
from flowrun.runs.supervisor import (
    EngineChild,
    EngineLocation,
    LaunchSpec,
    Prespawned,
    RunResult,
    prespawn,
)

if TYPE_CHECKING:
    # imported where used, so that `flowrun run` can spawn its child before they load
    import asyncio
    import logging

    from flowrun import pyenv
    from flowrun.runs.store import HistoryStore


def _log() -> logging.Logger:
    import logging  # not at the top: `flowrun run` spawns its child before it loads

    return logging.getLogger(__name__)


EventCallback = Callable[[str, dict[str, Any]], Awaitable[None] | None]

# The API-key variables of providers the `llm` and `agent` nodes read by default: passed
# (as secrets, so redacted) to workflows with such nodes when they are set.
PROVIDER_KEYS = (
    "OPENAI_API_KEY",
    "GROQ_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "XAI_API_KEY",
)
PYTHON_SUGGESTION = (
    "Choose a Python 3.11+ interpreter: `flowrun run --python PATH`, or in VS Code "
    "'Flowrun: Select Python Interpreter' (the `flowrun.python` setting)."
)


class MissingSecret(FlowrunError):
    type_name = "MissingSecret"


class InvalidInput(FlowrunError):
    type_name = "ValidationError"

    def __init__(
        self,
        message: str,
        *,
        suggestion: str | None = None,
        missing: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, suggestion=suggestion)
        self.missing = missing or []

    @property
    def error(self) -> dict[str, Any]:
        error = super().error
        if self.missing:
            error["missingInputs"] = self.missing  # the editor asks for these
        return error


class _Run:
    def __init__(self, execution_id: str, child: EngineChild) -> None:
        self.execution_id = execution_id
        self.child = child
        self.task: asyncio.Task[str] | None = None
        self.started = False  # holds one of the `max_concurrent` slots
        self.stop_requested = False


class _Prepared(NamedTuple):
    resolved: dict[str, Any]
    info: pyenv.InterpreterInfo
    known_valid: bool  # from the cache: nothing can refuse the run any more


class RunService:
    def __init__(
        self,
        store: HistoryStore,
        *,
        python: str | None = None,
        max_concurrent: int = 4,
        on_event: EventCallback | None = None,
        mode: str = "test",
        grace: float = 3.0,
        engine: EngineLocation | None = None,
    ) -> None:
        self.store = store
        self.python = python
        self.mode = mode
        self.grace = grace
        self.on_event = on_event
        self.engine = engine  # None: the installed flowrun_engine (tests use fakes)
        self._max_concurrent = max_concurrent
        import asyncio

        self._free_slots = max_concurrent  # runs beyond it wait, `queued`
        self._slots_changed = asyncio.Condition()
        self._runs: dict[str, _Run] = {}

    # -- the documented API -----------------------------------------------------------

    async def execute(
        self,
        path: Path,
        *,
        inputs: dict[str, Any] | None = None,
        trigger: dict[str, Any] | None = None,
        python: str | None = None,
        timeout: float | None = None,
        from_execution: str | None = None,
        from_node: str | None = None,
        install_missing: bool = False,
        text: str | None = None,
        max_parallel: int | None = None,
        prespawned: Prespawned | None = None,
    ) -> str:
        """`prespawned`: a child spawned from `early_child(...)`; used when it matches the
        run exactly, else killed."""
        try:
            return await self._execute(
                Path(path).resolve(),
                inputs=inputs,
                trigger=trigger,
                python=python,
                timeout=timeout,
                from_execution=from_execution,
                from_node=from_node,
                install_missing=install_missing,
                text=text,
                max_parallel=max_parallel,
                prespawned=prespawned,
            )
        finally:
            if prespawned is not None and not prespawned.adopted:
                prespawned.discard()

    async def _execute(
        self,
        path: Path,
        *,
        inputs: dict[str, Any] | None,
        trigger: dict[str, Any] | None,
        python: str | None,
        timeout: float | None,
        from_execution: str | None,
        from_node: str | None,
        install_missing: bool,
        text: str | None,
        max_parallel: int | None,
        prespawned: Prespawned | None,
    ) -> str:
        import asyncio

        prepared = await self._prepare(
            path, text, python or self.python, install_missing, inputs, trigger
        )
        resolved = prepared.resolved
        options = resolved.setdefault("options", {})
        if timeout is not None:
            options["timeout"] = float(timeout)
        if max_parallel is not None:
            options["max_parallel"] = int(max_parallel)
        if from_node is not None or from_execution is not None:
            options["given_outputs"] = await self._given_outputs(
                resolved, from_execution, from_node
            )
        secrets = self._secrets(resolved, path)
        execution_id = prespawned.spec.execution_id if prespawned else _new_id()
        workflow_id = str(resolved["workflow"]["id"])
        python_path = prepared.info.executable or prepared.info.path
        spec = _launch_spec(resolved, path, python_path, execution_id, secrets, self.mode)
        spec.engine = self.engine
        run = _Run(execution_id, self._child(spec))
        if prepared.known_valid and self._free_slots > 0:
            if prespawned is not None and prespawned.spec == spec:
                prespawned.adopted = True
                run.child.adopt(prespawned)
            # the child boots (an interpreter start) while the execution is recorded
            self._free_slots -= 1
            run.started = True
            with contextlib.suppress(OSError):  # run() reports it as a failed run
                await run.child.start()
        try:
            await self.store.create_execution(
                execution_id=execution_id,
                workflow_id=workflow_id,
                file=str(path),
                trigger=resolved.get("trigger"),
                inputs=resolved.get("inputs"),
                status="queued",
            )
        except BaseException:
            await self._abandon(run)
            raise
        self._runs[execution_id] = run
        run.task = asyncio.create_task(self._run(run), name=f"flowrun-run-{execution_id[:8]}")
        # a finished run is answered from the store: keeping it would grow a daemon forever
        run.task.add_done_callback(lambda _task: self._runs.pop(execution_id, None))
        return execution_id

    async def wait(self, execution_id: str) -> str:
        import asyncio

        run = self._runs.get(execution_id)
        if run is not None and run.task is not None:
            return await asyncio.shield(run.task)
        status = await self.store.status_of(execution_id)
        if status is None:
            from flowrun.runs.errors import UnknownExecution

            raise UnknownExecution(f"No execution {execution_id} in {self.store.path}.")
        return status

    async def stop(self, execution_id: str) -> bool:
        run = self._runs.get(execution_id)
        if run is None or run.task is None or run.task.done():
            return False
        run.stop_requested = True
        if run.started:
            await run.child.stop()
        else:  # leave the queue at once
            async with self._slots_changed:
                self._slots_changed.notify_all()
        return True

    async def set_max_concurrent(self, limit: int) -> None:
        """Change how many runs go at once; queued runs start as soon as slots open."""
        async with self._slots_changed:
            self._free_slots += limit - self._max_concurrent
            self._max_concurrent = limit
            self._slots_changed.notify_all()

    def running(self) -> list[str]:
        return [eid for eid, run in self._runs.items() if run.task and not run.task.done()]

    async def shutdown(self) -> None:
        import asyncio

        ids = self.running()
        await asyncio.gather(*(self.stop(eid) for eid in ids), return_exceptions=True)
        tasks = [run.task for run in self._runs.values() if run.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.store.flush()

    # -- before the run -------------------------------------------------------------------

    async def _prepare(
        self,
        path: Path,
        text: str | None,
        python: str | None,
        install_missing: bool,
        inputs: dict[str, Any] | None,
        trigger: dict[str, Any] | None,
    ) -> _Prepared:
        import asyncio

        from flowrun import pyenv

        source = text if text is not None else _read_text(path)
        key = _cache_key(path, source, inputs, trigger) if source is not None else None
        entry = _cache_load(key)
        if entry is not None:  # this exact file was valid: skip loading the validator
            info = await pyenv.inspect_interpreter(python)
            resolved, requires = entry["resolved"], list(entry["requires"])
        else:
            # validation and the interpreter check run side by side (the check may spawn)
            checked, info = await asyncio.gather(
                asyncio.to_thread(_validate, path, source), pyenv.inspect_interpreter(python)
            )
            errors = [d for d in checked.diagnostics if str(d.severity) == "error"]
            if errors or checked.workflow is None:
                raise WorkflowInvalid(errors)
            resolved = _resolve(checked.workflow, checked.source, path, inputs, trigger)
            requires = list(checked.workflow.requires or [])
            _cache_store(key, {"resolved": resolved, "requires": requires})
        if not info.ok:
            raise PythonNotFound(" ".join(info.problems), suggestion=PYTHON_SUGGESTION)
        if requires:
            await self._check_requires(info, requires, install_missing)
        return _Prepared(resolved, info, entry is not None)

    async def _check_requires(
        self, info: pyenv.InterpreterInfo, requires: list[str], install_missing: bool
    ) -> None:
        from flowrun import pyenv
        from flowrun.pyenv.packages import display_command

        python = info.executable or info.path  # the interpreter itself, not a shim
        missing = await pyenv.missing_packages(python, requires)
        if missing and install_missing:
            ok, output = await pyenv.install_packages(python, missing)
            if not ok:
                tail = " ".join(output.strip().splitlines()[-3:])
                raise DependencyError(
                    missing,
                    pyenv.pip_install_command(python, missing),
                    f"Installing {', '.join(missing)} into {python} failed: {tail}",
                )
            missing = await pyenv.missing_packages(python, requires)
        if missing:
            command = pyenv.pip_install_command(python, missing)
            raise DependencyError(
                missing,
                command,
                f"{python} cannot import {', '.join(missing)} (listed in `requires`). "
                f"Install with `{display_command(command)}` or run with --install-missing.",
            )

    def _secrets(self, resolved: dict[str, Any], path: Path) -> dict[str, str]:
        found = _gather_secrets(resolved["workflow"], path)
        if found.missing:
            where = f"the environment or {found.dotenv}" if found.dotenv else "the environment"
            raise MissingSecret(
                f"Secret{'s' if len(found.missing) > 1 else ''} "
                f"{', '.join(found.missing)} not found in {where} (declared in `secrets` "
                f"of {path.name}).",
                suggestion=f"Export {found.missing[0]}=... or add it to a .env file next to "
                "the workflow; values are passed to the run as environment variables only.",
            )
        return found.values

    async def _given_outputs(
        self, resolved: dict[str, Any], from_execution: str | None, from_node: str | None
    ) -> dict[str, Any]:
        source = from_execution
        if source is None:
            summaries = await self.store.list_executions(
                workflow_id=str(resolved["workflow"]["id"]), limit=1
            )
            if not summaries:
                return {}
            source = str(summaries[0]["id"])
        else:
            source = await self.store.resolve_id(source)
        await self.store.flush()  # wait for events still being written (a run just ended)
        outputs = await self.store.node_outputs(source)
        if from_node is None:
            return {}
        keep = upstream_nodes(resolved["workflow"], from_node)
        return {node: out for node, out in outputs.items() if node in keep}

    # -- the run ---------------------------------------------------------------------------

    def _child(self, spec: LaunchSpec) -> EngineChild:
        execution_id = spec.execution_id

        async def on_event(event: dict[str, Any]) -> None:
            await self.store.record_event(execution_id, event)
            await self._notify(execution_id, event)

        async def on_started(pid: int) -> None:
            await self.store.set_process(execution_id, pgid=pid)

        return EngineChild(spec, on_event=on_event, on_started=on_started, grace=self.grace)

    async def _notify(self, execution_id: str, event: dict[str, Any]) -> None:
        if self.on_event is None:
            return
        import inspect

        try:
            result = self.on_event(execution_id, event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            _log().exception("on_event callback failed for execution %s", execution_id)

    async def _run(self, run: _Run) -> str:
        import asyncio

        try:
            result = await self._run_in_slot(run)
        except OSError as exc:
            result = await self._spawn_failed(run, exc)
        except asyncio.CancelledError:  # the service's loop is going away
            await run.child.stop()
            result = _stopped()
        try:
            await self.store.finish(
                run.execution_id, status=result.status, outputs=result.outputs, error=result.error
            )
        except Exception:
            _log().exception("could not record the end of execution %s", run.execution_id)
        return result.status

    async def _run_in_slot(self, run: _Run) -> RunResult:
        if not run.started:
            async with self._slots_changed:
                await self._slots_changed.wait_for(
                    lambda: run.stop_requested or self._free_slots > 0
                )
                if not run.stop_requested:
                    self._free_slots -= 1
                    run.started = True
            if not run.started:  # stopped while queued: finish without spawning
                await run.child.stop()
                return await run.child.run()
        try:
            return await run.child.run()
        finally:
            await self._release_slot()

    async def _release_slot(self) -> None:
        async with self._slots_changed:
            self._free_slots += 1
            self._slots_changed.notify_all()

    async def _abandon(self, run: _Run) -> None:
        """The execution could not be recorded: stop a child that was already started."""
        if run.started:
            await run.child.stop()
            with contextlib.suppress(Exception):
                await run.child.run()
            await self._release_slot()

    async def _spawn_failed(self, run: _Run, exc: OSError) -> RunResult:
        error = {
            "type": "PythonNotFound",
            "message": f"Could not start {run.child.spec.python}: {exc}.",
            "suggestion": PYTHON_SUGGESTION,
        }
        event = {"event": "execution_finished", "t": 0.0, "status": "failed"}
        event.update({"outputs": None, "error": error})
        await self.store.record_event(run.execution_id, event)
        await self._notify(run.execution_id, event)
        return RunResult("failed", None, error, None, False)


def _stopped() -> RunResult:
    return RunResult("stopped", None, {"type": "Stopped", "message": "Stopped."}, None, False)


def upstream_nodes(workflow: dict[str, Any], node_id: str) -> set[str]:
    """Every node `node_id` depends on: `needs`, sequential order, earlier stages."""
    edges: dict[str, set[str]] = {}
    earlier: set[str] = set()
    for stage in workflow.get("stages") or []:
        previous: str | None = None
        ids = [str(node["id"]) for node in stage.get("nodes") or []]
        for node in stage.get("nodes") or []:
            needs = node.get("needs") or []
            deps = {needs} if isinstance(needs, str) else {str(n) for n in needs}
            if stage.get("mode") == "sequential" and previous is not None:
                deps.add(previous)
            edges[str(node["id"])] = deps | earlier
            previous = str(node["id"])
        earlier |= set(ids)
    seen: set[str] = set()
    todo = list(edges.get(node_id, ()))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(edges.get(current, ()))
    return seen


class _Found(NamedTuple):
    values: dict[str, str]
    missing: list[str]
    dotenv: Path | None  # the .env file that was read, if any


def _gather_secrets(workflow: dict[str, Any], path: Path) -> _Found:
    """The declared secrets (plus the set provider keys for llm/agent nodes, appended to
    `workflow["secrets"]` so the engine redacts them)."""
    names = list(workflow.get("secrets") or [])
    providers = _uses_providers(workflow)
    if not names and not providers:
        return _Found({}, [], None)
    from flowrun.runs.dotenv import load_secrets

    found = load_secrets(names, path.parent)
    if found.missing:
        return _Found(found.values, found.missing, found.dotenv)
    values = dict(found.values)
    if providers:
        extra = [k for k in PROVIDER_KEYS if k not in values]
        provider = load_secrets(extra, path.parent)
        values.update(provider.values)
        workflow["secrets"] = names + [k for k in provider.values if k not in names]
    return _Found(values, [], found.dotenv)


def _launch_spec(
    resolved: dict[str, Any],
    path: Path,
    python: str,
    execution_id: str,
    secrets: dict[str, str],
    mode: str,
) -> LaunchSpec:
    options = resolved.get("options") or {}
    return LaunchSpec(
        python=python,
        payload=resolved,
        execution_id=execution_id,
        workflow_id=str(resolved["workflow"]["id"]),
        cwd=str(options.get("cwd") or path.parent),
        env={k: str(v) for k, v in (resolved["workflow"].get("env") or {}).items()},
        secrets=secrets,
        mode=mode,
        timeout=float(options.get("timeout") or 600.0),
    )


def early_child(
    path: Path,
    *,
    inputs: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
    python: str | None = None,
    timeout: float | None = None,
    max_parallel: int | None = None,
    mode: str = "test",
) -> Prespawned | None:
    """Spawn the child of a run of `path` now, before asyncio and the history load, when
    the file is known valid (cached) and the interpreter is a plain executable; the engine
    boots meanwhile and waits for its input. Pass it to `execute(prespawned=...)`, which
    uses it only if it is exactly the child it would start, else kills it. None: nothing to
    gain (`execute` decides everything as usual)."""
    try:
        path = Path(path).resolve()
        source = _read_text(path)
        key = _cache_key(path, source, inputs, trigger) if source is not None else None
        entry = _cache_load(key)
        executable = _plain_executable(python)
        if entry is None or entry.get("requires") or executable is None:
            return None
        resolved = entry["resolved"]
        options = resolved.setdefault("options", {})
        if timeout is not None:
            options["timeout"] = float(timeout)
        if max_parallel is not None:
            options["max_parallel"] = int(max_parallel)
        found = _gather_secrets(resolved["workflow"], path)
        if found.missing:
            return None
        spec = _launch_spec(resolved, path, executable, _new_id(), found.values, mode)
        return prespawn(spec)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # the usual path reports whatever this is


def _plain_executable(python: str | None) -> str | None:
    """The interpreter file `python` names (as pyenv finds it), unless it is a script (a
    pyenv/asdf shim, whose real interpreter only a probe tells)."""
    import shutil

    if python is None:
        found = shutil.which("python3") or shutil.which("python")
    elif os.sep in python:
        found = os.path.abspath(os.path.expanduser(python))
    else:
        found = shutil.which(python)
    if found is None or not os.access(found, os.X_OK):
        return None
    with open(found, "rb") as handle:
        return None if handle.read(2) == b"#!" else found


def _new_id() -> str:
    """`uuid.uuid4().hex`, without importing uuid (and platform) before the spawn."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def _uses_providers(workflow: dict[str, Any]) -> bool:
    return any(
        node.get("type") in ("llm", "agent")
        for stage in workflow.get("stages") or []
        for node in stage.get("nodes") or []
    )


# -- a cache of valid, resolved files ---------------------------------------------------
# Validating imports pydantic and the YAML loader (most of a cold `flowrun run`). A file
# that was valid resolves to the same engine input for the same inputs and trigger, so
# it is kept under the user's cache folder, keyed by the text, the path, the inputs, the
# trigger and the code of the validator. Only valid files are cached. FLOWRUN_NO_CACHE=1
# turns it off.

_CACHE_ENTRIES = 256
try:  # the built-in one: hashlib would load OpenSSL before the spawn (the same digest)
    from _sha256 import sha256 as _sha256  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - Python 3.12+ calls it _sha2
    from hashlib import sha256 as _sha256
_code_stamp: str | None = None


def _cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "flowrun" / "resolved"


def _validator_stamp() -> str:
    """Changes whenever the code that validates or resolves a file changes."""
    global _code_stamp
    if _code_stamp is None:
        import flowrun

        root = Path(flowrun.__file__).parent
        newest = 0
        for folder in (root / "spec", root / "validate", root.parent / "flowrun_engine"):
            with contextlib.suppress(OSError), os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.endswith(".py"):
                        newest = max(newest, entry.stat().st_mtime_ns)
        newest = max(newest, Path(__file__).stat().st_mtime_ns)  # this module calls resolve()
        _code_stamp = f"{flowrun.__version__}:{newest}"
    return _code_stamp


def _cache_key(
    path: Path, text: str, inputs: dict[str, Any] | None, trigger: dict[str, Any] | None
) -> str | None:
    if os.environ.get("FLOWRUN_NO_CACHE"):
        return None
    try:
        material = json.dumps(
            [_validator_stamp(), str(path), text, inputs, trigger], sort_keys=True
        )
    except (TypeError, ValueError):
        return None
    return str(_sha256(material.encode("utf-8")).hexdigest())


def _cache_load(key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    try:
        entry = json.loads((_cache_folder() / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(entry, dict) and isinstance(entry.get("resolved"), dict):
        return entry
    return None


def _cache_store(key: str | None, entry: dict[str, Any]) -> None:
    if key is None:
        return
    folder = _cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{key}.{os.getpid()}.tmp"
        temp.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(temp, folder / f"{key}.json")
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for old in files[:-_CACHE_ENTRIES]:
            old.unlink()
    except (OSError, TypeError, ValueError):
        pass  # an optimisation only


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # validate_file reports it


def _validate(path: Path, text: str | None) -> Any:
    from flowrun.validate import validate_file, validate_text

    if text is not None:
        return validate_text(text, path)
    return validate_file(path)


def _resolve(
    workflow: Any,
    source: Any,
    path: Path,
    inputs: dict[str, Any] | None,
    trigger: dict[str, Any] | None,
) -> dict[str, Any]:
    from flowrun.spec.resolve import InputError, TriggerError, resolve

    try:
        resolved: dict[str, Any] = resolve(
            workflow, path, inputs=inputs, trigger=trigger, source=source
        )
    except TriggerError as exc:
        raise InvalidTrigger(
            f"{path.name}: {exc}",
            suggestion="Give a trigger matching the file's `trigger:` (--trigger FILE|JSON).",
        ) from None
    except InputError as exc:
        raise InvalidInput(
            f"{path.name}: {exc}",
            suggestion="Fix the --input values (NAME=VALUE).",
            missing=exc.missing,
        ) from None
    return resolved


def default_python() -> str | None:
    """The interpreter when none is chosen: FLOWRUN_PYTHON, else python3 on PATH."""
    return os.environ.get("FLOWRUN_PYTHON") or None
