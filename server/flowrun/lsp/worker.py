"""The validation worker: a child process of the server that runs `main()`.

Validation is CPU-bound and libyaml holds the GIL while it parses, so a thread would still
freeze the server's event loop on a large file. The worker validates, builds the outline
from the same source map and converts the diagnostics; the server only publishes them.

Frames on stdin/stdout: an 8-byte big-endian length, then a pickle (both ends are Flowrun).
Request: `list[Item]`; reply: `list[Checked]` (files that cannot be read are left out).
The worker ends when its stdin closes, or with the server (PR_SET_PDEATHSIG on Linux).
"""

from __future__ import annotations

import ctypes
import pickle
import signal
import struct
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types

from flowrun.lsp.convert import to_lsp
from flowrun.lsp.outline import Outline, build_outline
from flowrun.spec.resolve import node_hashes
from flowrun.validate import validate_text
from flowrun.validate.workspace import Facts, facts_of

HEADER = struct.Struct(">Q")
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Item:
    uri: str
    path: str
    text: str | None  # None: read the file from disk


@dataclass(frozen=True)
class Checked:
    uri: str
    text: str | None  # the file's text when it was read here; the server has the rest
    diagnostics: list[types.Diagnostic]
    outline: Outline
    facts: Facts  # what the workspace rules need (workflow id, route)


def check(item: Item) -> Checked | None:
    text = item.text
    if text is None:
        try:
            text = Path(item.path).read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return None
    result = validate_text(text, item.path)
    diagnostics = [to_lsp(d, item.uri) for d in result.diagnostics]
    outline = build_outline(result.source, item.path)
    if result.workflow is not None and not result.has_errors:  # for "Re-run changed"
        outline = replace(outline, hashes=tuple(node_hashes(result.workflow).items()))
    facts = facts_of(Path(item.path), result)
    read_here = text if item.text is None else None
    return Checked(item.uri, read_here, diagnostics, outline, facts)


def write_frame(stream: BinaryIO, value: Any) -> None:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError
    (size,) = HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: stdin closing still ends the worker
        pass


def main() -> int:
    _die_with_parent()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            items: list[Item] = read_frame(stdin)
        except EOFError:
            return 0
        done = [checked for item in items if (checked := check(item)) is not None]
        write_frame(stdout, done)
