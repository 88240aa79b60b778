"""Workflow texts the LSP tests write into their workspace."""

from __future__ import annotations

from pathlib import Path

NODES = """\
version: 1
inputs:
  style: {type: string, default: short}
secrets: [API_TOKEN]
nodes:
  - id: fetch
    type: shell
    with:
      run: echo hi
  - id: summarize
    type: transform
    needs: [fetch]
    with:
      value: ${{ nodes.fetch.output.stdout }}
"""

STAGES = """\
version: 1
stages:
  - id: plan
    nodes:
      - id: think
        type: transform
        with:
          value: 1
  - id: build
    mode: parallel
    nodes:
      - id: make
        type: shell
        with:
          run: "true"
"""

BAD = """\
version: 1
nodes:
  - id: fetch
    type: shell
    with:
      run: echo hi
  - id: summarize
    type: transfrm
    needs: [fetc]
    with:
      value: ${{ nodes.fetch.output.stdout }}
"""

QUICK = """\
version: 1
nodes:
  - id: hello
    type: shell
    with:
      run: echo hello
  - id: shout
    type: transform
    needs: [hello]
    with:
      value: ${{ nodes.hello.output.stdout }}!
outputs:
  said: ${{ nodes.shout.output }}
"""


def long_running(seconds: int = 60) -> str:
    """A shell node that starts a grandchild and prints both pids."""
    return f"""\
version: 1
nodes:
  - id: wait
    type: shell
    timeout: 300
    with:
      run: "sleep {seconds} & echo $$ $!; wait"
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
