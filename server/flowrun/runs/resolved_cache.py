"""A cache of valid, resolved workflow files: the engine input, keyed by what produced it.

Validating imports pydantic and the YAML loader (most of a cold `flowrun run`). A file
that was valid resolves to the same engine input for the same inputs and trigger, so
it is kept under the user's cache folder, keyed by the text, the path, the inputs, the
trigger and the code of the validator. Only valid files are cached. FLOWRUN_NO_CACHE=1
turns it off.

`flowrun run` validates a file the cache does not have before it spawns the engine
(`prespawn.early_child`) and hands the entry to the run's `prepare` (`hand_over`): one
validation, also without the cache.

On the path of `flowrun run`'s early child: no asyncio, logging or dataclasses here.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

MAX_ENTRIES = 256
try:  # the built-in one: hashlib would load OpenSSL before the spawn (the same digest)
    from _sha256 import sha256 as _sha256  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - Python 3.12+ calls it _sha2
    from hashlib import sha256 as _sha256
_code_stamp: str | None = None
_handed: tuple[str, str] | None = None  # (key, entry as JSON) for the next load_entry(key)

# The module that calls resolve(): its code is part of what a cached entry depends on.
_RESOLVING_MODULE = Path(__file__).with_name("prepare.py")


def cache_folder() -> Path:
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
        newest = max(newest, _RESOLVING_MODULE.stat().st_mtime_ns)
        _code_stamp = f"{flowrun.__version__}:{newest}"
    return _code_stamp


def cache_key(
    path: Path, text: str, inputs: dict[str, Any] | None, trigger: dict[str, Any] | None
) -> str | None:
    try:
        material = json.dumps(
            [_validator_stamp(), str(path), text, inputs, trigger], sort_keys=True
        )
    except (TypeError, ValueError):
        return None
    return str(_sha256(material.encode("utf-8")).hexdigest())


def _disabled() -> bool:
    return bool(os.environ.get("FLOWRUN_NO_CACHE"))


def hand_over(key: str | None, entry: dict[str, Any]) -> None:
    """Give `entry` to the next `load_entry(key)` of this process (once, cache or not)."""
    global _handed
    _handed = None if key is None else (key, json.dumps(entry))


def load_entry(key: str | None) -> dict[str, Any] | None:
    global _handed
    if key is None:
        return None
    if _handed is not None and _handed[0] == key:
        text, _handed = _handed[1], None
        return json.loads(text)  # type: ignore[no-any-return]
    if _disabled():
        return None
    try:
        entry = json.loads((cache_folder() / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(entry, dict) and isinstance(entry.get("resolved"), dict):
        return entry
    return None


def store_entry(key: str | None, entry: dict[str, Any]) -> None:
    if key is None or _disabled():
        return
    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{key}.{os.getpid()}.tmp"
        temp.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(temp, folder / f"{key}.json")
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for old in files[:-MAX_ENTRIES]:
            old.unlink()
    except (OSError, TypeError, ValueError):
        pass  # an optimisation only


def read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # validate_file reports it
