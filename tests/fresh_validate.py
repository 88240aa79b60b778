"""`flowrun validate` in a fresh interpreter, and the modules it loaded: the cold-start tests
check what a command imports (issue 19)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

# what the process loaded before `main` (coverage does, under --cov) does not count
_CODE = (
    "import json, sys; before = set(sys.modules);"
    "from flowrun.cli import main; code = main(['validate', sys.argv[1]]);"
    "print(json.dumps([sorted(set(sys.modules) - before), code]))"
)


class Validated(NamedTuple):
    output: str  # what validate printed
    loaded: list[str]  # the modules `main` loaded
    code: int


def fresh_validate(path: Path) -> Validated:
    done = subprocess.run(
        [sys.executable, "-c", _CODE, str(path)], capture_output=True, text=True, check=True
    )
    output, _, last = done.stdout.rstrip("\n").rpartition("\n")
    loaded, code = json.loads(last)
    return Validated(output, loaded, code)
