"""events.py: redaction, the size cap, the fd sink."""

from __future__ import annotations

import json
import os

from flowrun_engine import events as ev


def test_redactor_walks_everything() -> None:
    r = ev.Redactor(["topsecret", "abc", "topsecret-longer"])
    value = {"topsecret": ["x topsecret-longer y", ("topsecret",), 3, None], "n": "abc"}
    assert r.value(value) == {"***": ["x *** y", ["***"], 3, None], "n": "abc"}
    assert ev.Redactor([]).value(value) is value


def test_emitter_redacts_and_stamps() -> None:
    sink = ev.ListSink()
    ev.Emitter(sink, ["hunter22"]).emit(ev.NODE_LOG, node="a", text="pw=hunter22")
    (event,) = sink.of(ev.NODE_LOG)
    assert event["text"] == "pw=***" and isinstance(event["t"], float)


def test_big_strings_and_fields_are_cut_with_a_marker() -> None:
    big = "y" * (ev.STRING_LIMIT + 1)
    event = ev.cap_event(
        {"event": "node_finished", "node": "a", "output": {"exit_code": 0, "stdout": big}}
    )
    stdout = event["output"]["stdout"]
    assert stdout["truncated"] is True and stdout["size"] == len(big)
    assert stdout["preview"] == "y" * ev.PREVIEW_CHARS + "…"
    assert event["output"]["exit_code"] == 0
    many = ["z" * 1000] * 400
    event = ev.cap_event({"event": "node_finished", "node": "a", "output": many, "input": 1})
    assert event["output"]["truncated"] is True and event["input"] == 1
    assert event["output"]["size"] == len(json.dumps(many).encode())
    small = {"event": "x", "output": 1}
    assert ev.cap_event(small) is small


def test_fd_sink_writes_lines_and_masks_escaped_secrets() -> None:
    read_fd, write_fd = os.pipe()
    secret = 'with"quote'
    sink = ev.FdSink(write_fd, [secret])
    emitter = ev.Emitter(sink, [secret])
    emitter.emit(ev.NODE_LOG, node="a", text=json.dumps({"v": secret}))
    sink.emit({"event": "raw", "v": secret})
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        lines = f.read().splitlines()
    assert len(lines) == 2
    assert "quote" not in "".join(lines)
    assert json.loads(lines[1]) == {"event": "raw", "v": "***"}
