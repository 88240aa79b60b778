"""The README's workflow is a real file of examples/, and no example pastes untrusted text or
a secret into a command (issue 11.13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowrun.validate import validate_file

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_example_is_examples_hello_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## A workflow") :]
    named = re.search(r"`(examples/[\w.-]+\.workflow\.yml)`:\s*```yaml\n(.*?)```", section, re.S)
    assert named is not None, "the README's workflow section names its file above the block"
    assert named.group(2) == (ROOT / named.group(1)).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.workflow.y*ml")), ids=str)
def test_no_example_triggers_an_injection_or_secret_rule(path: Path) -> None:
    codes = {d.code for d in validate_file(path).diagnostics}
    assert not codes & {"template-injection", "secret-in-command"}
