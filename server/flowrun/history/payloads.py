"""JSON payloads and log lines as stored in the history: capped at 256 KiB, never silently.

A payload over the cap becomes a marker object that says so, with the full size and the
start of the JSON text, so the tree still shows something useful.
"""

from __future__ import annotations

import json
from typing import Any

CAP_BYTES = 256 * 1024
TRUNCATED_KEY = "$truncated"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def dump(value: Any, *, cap: int = CAP_BYTES) -> str | None:
    """JSON text of `value` (None stays NULL), replaced by a marker when over `cap` bytes."""
    if value is None:
        return None
    text = json.dumps(value, ensure_ascii=False, default=str)
    encoded = text.encode()
    if len(encoded) <= cap:
        return text
    preview = encoded[: max(cap - 1024, 0)].decode(errors="ignore")
    marker = {
        TRUNCATED_KEY: (
            f"cut by flowrun: {human_size(len(encoded))} in full, "
            f"only the first {human_size(len(preview.encode()))} are kept"
        ),
        "size": len(encoded),
        "preview": preview,
    }
    return json.dumps(marker, ensure_ascii=False)


def load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def log_line(t: float | None, stream: str, text: str, attempt: int) -> str:
    """One stored log entry: a JSON object and a newline (logs are JSON lines, appended)."""
    entry = {"t": t, "stream": stream, "text": text, "attempt": attempt}
    return json.dumps(entry, ensure_ascii=False) + "\n"


def load_logs(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    entries: list[dict[str, Any]] = []
    for line in text.splitlines():
        value = load(line)
        if isinstance(value, dict):
            entries.append(value)
        elif line:
            entries.append({"t": None, "stream": "info", "text": line, "attempt": None})
    return entries
