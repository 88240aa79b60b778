"""Find the interpreter a run uses and check it is Python >= 3.11.

Checking costs a subprocess, so results are cached per interpreter file (path, mtime,
size): in memory, and on disk under the user's cache folder so that a cold
`flowrun run` spawns nothing but the engine when the workflow requires no packages.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowrun.pyenv.probe import PROBE_SOURCE

MIN_VERSION = (3, 11)
PROBE_TIMEOUT = 30.0
_memory_cache: dict[str, dict[str, Any]] = {}


@dataclass
class InterpreterInfo:
    path: str
    version: str | None
    ok: bool
    problems: list[str] = field(default_factory=list)
    executable: str | None = None  # the interpreter itself (a pyenv shim resolved), to spawn
    missing: list[str] = field(default_factory=list)  # requirements not importable
    versions: dict[str, str] = field(default_factory=dict)  # requirement → installed version


@dataclass
class _Located:
    path: str | None
    problem: str | None


def _locate(python: str | None) -> _Located:
    if python is None:
        found = shutil.which("python3") or shutil.which("python")
        if found is None:
            return _Located(None, "No `python3` or `python` found on PATH.")
        return _Located(found, None)
    if os.sep in python or (os.altsep and os.altsep in python):
        path = os.path.abspath(os.path.expanduser(python))
        if not os.path.isfile(path):
            return _Located(None, f"No Python interpreter at {path}: the file does not exist.")
        if not os.access(path, os.X_OK):
            return _Located(None, f"{path} is not executable.")
        return _Located(path, None)
    found = shutil.which(python)
    if found is None:
        return _Located(None, f"No `{python}` found on PATH.")
    return _Located(found, None)


def _cache_key(path: str) -> str | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = f"{path}|{stat.st_mtime_ns}|{stat.st_size}"
    if _is_script(path):
        # a shim (pyenv, asdf) picks the version from the folder and the environment
        key += f"|{os.getcwd()}|{os.environ.get('PYENV_VERSION', '')}"
    return key


def _is_script(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return False


def _disk_cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "flowrun" / "interpreters.json"


def _read_disk_cache() -> dict[str, Any]:
    try:
        data = json.loads(_disk_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_disk_cache(key: str, entry: dict[str, Any]) -> None:
    target = _disk_cache_file()
    data = _read_disk_cache()
    data[key] = entry
    if len(data) > 64:  # keep the file small: drop the oldest entries
        data = dict(list(data.items())[-64:])
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temp, target)
    except OSError:
        pass  # a cache is an optimisation only


def _cached(key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    if key in _memory_cache:
        return _memory_cache[key]
    entry = _read_disk_cache().get(key)
    if isinstance(entry, dict) and isinstance(entry.get("version"), str):
        _memory_cache[key] = entry
        return entry
    return None


def _remember(key: str | None, executable: str, version: str) -> None:
    if key is None:
        return
    entry = {"executable": executable, "version": version}
    if _memory_cache.get(key) != entry:
        _memory_cache[key] = entry
        _write_disk_cache(key, entry)


def clear_cache() -> None:
    """Forget every interpreter check in this process (tests; after an install)."""
    _memory_cache.clear()


def version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split(".")[:3]:
        digits = re.match(r"\d*", part)
        parts.append(int(digits.group() or 0) if digits else 0)
    return tuple(parts)


def interpreter_environment() -> dict[str, str]:
    """Our environment without what would make the user's interpreter load our packages."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


async def start_python(
    argv: list[str], env: dict[str, str], *, merge_stderr: bool = False
) -> asyncio.subprocess.Process:
    """`argv` with no stdin and its stdout piped; its stderr piped too, or merged into stdout."""
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
        env=env,
    )


def _judge(
    path: str,
    executable: str,
    version: str,
    missing: list[str],
    versions: dict[str, str] | None = None,
) -> InterpreterInfo:
    problems: list[str] = []
    if version_tuple(version)[:2] < MIN_VERSION:
        wanted = ".".join(map(str, MIN_VERSION))
        problems.append(
            f"{path} is Python {version}; Flowrun runs workflows on Python {wanted} or newer."
        )
    return InterpreterInfo(
        path=path,
        version=version,
        ok=not problems,
        problems=problems,
        executable=executable,
        missing=missing,
        versions=versions or {},
    )


async def probe_interpreter(
    python: str | None, checks: list[tuple[str, str, str]] | None = None
) -> InterpreterInfo:
    """Run the probe in the interpreter: version, real executable, missing modules.

    `checks` is `[(requirement, distribution, module), ...]`; the requirements not found
    are listed in `InterpreterInfo.missing`, the installed versions of the others in
    `InterpreterInfo.versions`. Always spawns one subprocess.
    """
    located = _locate(python)
    if located.path is None:
        return InterpreterInfo(
            path=python or "python3", version=None, ok=False, problems=[str(located.problem)]
        )
    path = located.path
    argv = [path, "-c", PROBE_SOURCE, json.dumps(checks or [])]
    env = interpreter_environment()
    try:
        process = await start_python(argv, env)
    except OSError as exc:
        return InterpreterInfo(
            path=path, version=None, ok=False, problems=[f"Could not run {path}: {exc}."]
        )
    try:
        out, err = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        return InterpreterInfo(
            path=path,
            version=None,
            ok=False,
            problems=[f"{path} did not answer within {PROBE_TIMEOUT:g} s."],
        )
    try:
        data = json.loads(out.decode("utf-8", "replace"))
        version = str(data["version"])
        executable = str(data.get("executable") or path)
        missing = [str(item) for item in data.get("missing", [])]
        versions = {str(k): str(v) for k, v in (data.get("versions") or {}).items()}
    except (ValueError, KeyError, TypeError):
        tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        detail = " ".join(tail) or f"exit code {process.returncode}"
        return InterpreterInfo(
            path=path,
            version=None,
            ok=False,
            problems=[f"{path} did not answer as a Python interpreter ({detail})."],
        )
    info = _judge(path, executable, version, missing, versions)
    if info.ok:
        _remember(_cache_key(path), executable, version)
    return info


async def inspect_interpreter(python: str | None) -> InterpreterInfo:
    """The interpreter `python` names (None: python3 on PATH), checked to be >= 3.11.

    Cached per interpreter file, so this usually spawns nothing.
    """
    located = _locate(python)
    if located.path is not None:
        entry = _cached(_cache_key(located.path))
        if entry is not None:
            return _judge(located.path, str(entry["executable"]), str(entry["version"]), [])
    return await probe_interpreter(python)
