"""The inputs of an editor re-run over the real language server: Run from here and Re-run
changed take those of the execution they start from, the inputs the client gives over them
key by key (`runs.rerun.request_from`, the CLI's rule too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsp.harness import Session
from lsp.test_execute import start
from lsp.test_pause_resume import finished
from lsp.workflows import write

GREET = """\
version: 1
inputs:
  who: {type: string, default: world}
  greeting: {type: string, default: Hello}
nodes:
  - {id: first, type: transform, with: {value: "${{ inputs.greeting }}"}}
  - id: second
    type: transform
    needs: [first]
    with: {value: "${{ nodes.first.output }}, ${{ inputs.who }}"}
outputs:
  said: ${{ nodes.second.output }}
"""


async def outputs(session: Session, params: dict[str, Any]) -> Any:
    answer = await session.request("flowrun/execute", params)
    end = await finished(session, answer["executionId"])
    assert end["status"] == "succeeded", end
    return end["outputs"]


async def test_given_inputs_go_over_those_of_the_execution_rerun(workspace: Path) -> None:
    write(workspace, "greet.workflow.yml", GREET)
    session = await start(workspace)
    try:
        uri = session.uri("greet.workflow.yml")
        base = {"uri": uri, "inputs": {"who": "Ada", "greeting": "Hi"}}
        assert await outputs(session, base) == {"said": "Hi, Ada"}
        from_here = {"uri": uri, "fromNode": "second", "inputs": {"who": "Bob"}}
        assert await outputs(session, from_here) == {"said": "Hi, Bob"}  # greeting: the base's
        # the last success is the run from here: who=Bob, greeting=Hi
        changed = {"uri": uri, "changed": True, "inputs": {"greeting": "Hey"}}
        assert await outputs(session, changed) == {"said": "Hey, Bob"}
    finally:
        await session.stop()
