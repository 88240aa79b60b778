"""The README's `flowrun serve` example, as a user would run it: serve `examples/`, curl."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

from served import Served

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> tuple[str, str, dict[str, object], int, dict[str, object]]:
    """(method, path, body, status, answer) of the README's curl under `flowrun serve`."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```sh\n.venv/bin/flowrun serve examples", 1)[1].split("```", 1)[0]
    curl = shlex.split(block[block.index("curl") : block.index("# →")].replace("\\\n", " "))
    method = curl[curl.index("-X") + 1]
    path = "/" + curl[curl.index("-X") + 2].split("/", 1)[1]
    body = json.loads(curl[curl.index("-d") + 1])
    expected = re.search(r"# → (\d+) (\{.*?\})", block)
    assert expected is not None, block
    return method, path, body, int(expected.group(1)), json.loads(expected.group(2))


def test_the_readme_serve_example_answers_as_the_readme_says(tmp_path: Path) -> None:
    method, path, body, status, answer = readme_example()
    folder = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", folder)
    served = Served(folder).start()  # every example: no route conflict among them
    try:
        with served.client() as client:
            got = client.request(method, path, json=body)
        assert got.status_code == status, got.text
        assert got.json() == answer
        rows = served.rows("SELECT mode, status FROM executions")
        assert rows == [("production", "succeeded")]
    finally:
        served.stop()
