"""Interpreters already found and checked: where `python` names one, and what an earlier probe
learnt of it (the real executable behind a pyenv/asdf shim, the version), with no
subprocess.

The probe's answers are cached per interpreter file (path, mtime, size; a shim also by the
folder and `PYENV_VERSION`, which pick its version): in memory, and on disk under the user's
cache folder, so that a cold `flowrun run` spawns nothing but the engine.

On `flowrun run`'s early path (the engine spawns before asyncio loads): no asyncio,
logging or dataclasses here.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, NamedTuple

_memory_cache: dict[str, dict[str, Any]] = {}


class Located(NamedTuple):
    path: str | None
    problem: str | None


def locate(python: str | None) -> Located:
    """The file `python` names (None: python3, else python, on PATH), or why there is none."""
    if python is None:
        found = shutil.which("python3") or shutil.which("python")
        if found is None:
            return Located(None, "No `python3` or `python` found on PATH.")
        return Located(found, None)
    if os.sep in python or (os.altsep and os.altsep in python):
        path = os.path.abspath(os.path.expanduser(python))
        if not os.path.isfile(path):
            return Located(None, f"No Python interpreter at {path}: the file does not exist.")
        if not os.access(path, os.X_OK):
            return Located(None, f"{path} is not executable.")
        return Located(path, None)
    found = shutil.which(python)
    if found is None:
        return Located(None, f"No `{python}` found on PATH.")
    return Located(found, None)


def known_executable(python: str | None, *, through_shims: bool = True) -> str | None:
    """The interpreter to spawn for `python` without a probe: the file itself unless it is a
    script (a shim), else (`through_shims`) the executable an earlier probe found behind it;
    None when only a probe can tell."""
    path = locate(python).path  # an executable file, when found
    if path is None:
        return None
    if not is_script(path):
        return path
    if not through_shims:
        return None
    entry = cached(cache_key(path))
    executable = entry.get("executable") if entry is not None else None
    return executable if isinstance(executable, str) and os.path.isfile(executable) else None


def cache_key(path: str) -> str | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = f"{path}|{stat.st_mtime_ns}|{stat.st_size}"
    if is_script(path):
        # a shim (pyenv, asdf) picks the version from the folder and the environment
        key += f"|{os.getcwd()}|{os.environ.get('PYENV_VERSION', '')}"
    return key


def is_script(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return False


def cached(key: str | None) -> dict[str, Any] | None:
    """What the probe answered for `key`, if it answered and the interpreter was fit."""
    if key is None:
        return None
    if key in _memory_cache:
        return _memory_cache[key]
    entry = read_disk_cache().get(key)
    if isinstance(entry, dict) and isinstance(entry.get("version"), str):
        _memory_cache[key] = entry
        return entry
    return None


def remember(key: str | None, executable: str, version: str) -> None:
    if key is None:
        return
    entry = {"executable": executable, "version": version}
    if _memory_cache.get(key) != entry:
        _memory_cache[key] = entry
        write_disk_cache(key, entry)


def clear_cache() -> None:
    """Forget every interpreter check in this process (tests; after an install)."""
    _memory_cache.clear()


def _disk_cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "flowrun" / "interpreters.json"


def read_disk_cache() -> dict[str, Any]:
    try:
        data = json.loads(_disk_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_disk_cache(key: str, entry: dict[str, Any]) -> None:
    target = _disk_cache_file()
    data = read_disk_cache()
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
