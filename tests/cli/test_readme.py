"""The README stands alone: its links stay in the repository, and its CLI table lists every
command `flowrun --help` has."""

from __future__ import annotations

import re
from pathlib import Path

from flowrun.cli import build_parser

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_links_point_at_files_of_this_repository() -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    assert links
    for link in links:
        assert not link.startswith(("http:", "https:", "/")), link
        target = (ROOT / link.split("#")[0]).resolve()
        assert target.is_relative_to(ROOT.resolve()) and target.exists(), link
    assert "../" not in README and "shared/" not in README


def test_the_cli_table_lists_every_command() -> None:
    subparsers = build_parser()._subparsers
    assert subparsers is not None
    (action,) = subparsers._group_actions
    commands = set(action.choices)  # type: ignore[arg-type]
    assert {"init", "list", "run", "show"} <= commands
    for command in commands:
        assert f"| `flowrun {command}" in README, command
