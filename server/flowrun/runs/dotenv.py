"""Secrets for a run: from the process environment first, then the workspace `.env` file.

Only the names the workflow declares under `secrets:` are read. Values never leave this
module except as environment variables of the engine child.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


@dataclass
class Secrets:
    values: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    dotenv: Path | None = None  # the .env file that was read, if any


def _unquote_double(body: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            nxt = body[index + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _value(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        body = raw[1:-1]
        return _unquote_double(body) if raw[0] == '"' else body
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        if end > 0:  # a quoted value followed by a comment
            return _value(raw[: end + 1])
    comment = re.search(r"\s#", raw)
    return (raw[: comment.start()] if comment else raw).strip()


def parse_dotenv(text: str) -> dict[str, str]:
    """`KEY=value` lines as docker compose and python-dotenv read them (no interpolation)."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            continue
        key, raw = match.group(1), match.group(2)
        # a double-quoted value may span lines
        while raw.startswith('"') and not _closed(raw) and index < len(lines):
            raw += "\n" + lines[index]
            index += 1
        values[key] = _value(raw)
    return values


def _closed(raw: str) -> bool:
    escaped = False
    for char in raw[1:]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return True
    return False


def find_dotenv(start: Path, stop: Path | None = None) -> Path | None:
    """The nearest `.env` from `start` upwards, not above `stop` or a repository root."""
    folder = start.resolve()
    limit = stop.resolve() if stop is not None else None
    while True:
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
        if folder == limit or (folder / ".git").exists() or folder.parent == folder:
            return None
        folder = folder.parent


def load_secrets(
    names: Sequence[str],
    folder: Path,
    environ: Mapping[str, str] | None = None,
    stop: Path | None = None,
) -> Secrets:
    """Values of `names`: the environment wins, then the nearest `.env` above `folder`."""
    env = os.environ if environ is None else environ
    result = Secrets()
    pending = []
    for name in names:
        if name in env:
            result.values[name] = env[name]
        else:
            pending.append(name)
    if pending:
        path = find_dotenv(folder, stop)
        file_values: dict[str, str] = {}
        if path is not None:
            result.dotenv = path
            try:
                file_values = parse_dotenv(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                file_values = {}
        for name in pending:
            if name in file_values:
                result.values[name] = file_values[name]
            else:
                result.missing.append(name)
    return result
