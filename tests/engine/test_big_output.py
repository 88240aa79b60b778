"""A node that prints 50 MB: the logs are capped, events stay small, the run finishes."""

from __future__ import annotations

from conftest import Engine, node, workflow
from flowrun_engine.context import LOG_LINES_LIMIT

FIFTY_MB_SHELL = "head -c 50000000 /dev/zero | tr '\\0' x | fold -w 99"
FIFTY_MB_PYTHON = (
    "def main():\n    for _ in range(500_000):\n        print('x' * 99)\n    return 'done'"
)


def test_fifty_megabytes_of_output(engine: Engine) -> None:
    run = engine(
        workflow(
            node("sh", "shell", with_={"run": FIFTY_MB_SHELL}, timeout=120),
            node("py", "python", with_={"code": FIFTY_MB_PYTHON}, timeout=120),
        )
    )
    assert run.status == "succeeded"
    assert len(run.raw) < 12_000_000
    for node_id in ("sh", "py"):
        logs = run.logs(node_id)
        assert len(logs) <= LOG_LINES_LIMIT + 1
        assert logs[-1].startswith("… output truncated")
    stdout = run.output("sh")["stdout"]
    assert stdout["truncated"] is True and stdout["size"] > 10 * 1024 * 1024
    assert stdout["preview"].startswith("x" * 99)
    assert run.output("py") == "done"
    assert max(len(line) for line in run.raw.splitlines()) <= 256 * 1024
