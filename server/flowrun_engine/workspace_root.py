"""The workspace root of a run: where its `.flowrun` folder (prices, cache) is."""

from __future__ import annotations

import os

FLOWRUN_DIR = ".flowrun"


def find_root(start: str) -> str:
    """The nearest folder from `start` up holding `.flowrun` or `.git` (else `start`), as the
    history's default location is found (`flowrun.history.location`)."""
    folder = os.path.abspath(start)
    while True:
        if os.path.isdir(os.path.join(folder, FLOWRUN_DIR)) or os.path.exists(
            os.path.join(folder, ".git")
        ):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.abspath(start)
        folder = parent
