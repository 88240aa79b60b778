"""Issues 12.8 / 11.6 over the real language server: `flowrun/execution` asked right after a
notification answers with what the notification announced."""

from __future__ import annotations

from lsp.harness import Session

FLOW = """\
version: 1
id: quick
nodes:
  - id: one
    type: transform
    with: {value: 1}
  - id: two
    type: transform
    needs: [one]
    with: {value: 2}
"""


async def test_the_tree_is_never_stale_after_a_notification(session: Session) -> None:
    (session.workspace / "quick.workflow.yml").write_text(FLOW)
    uri = session.uri("quick.workflow.yml")
    stale: list[str] = []
    for _ in range(8):
        mark = session.events.mark()
        execution_id = (await session.request("flowrun/execute", {"uri": uri}))["executionId"]
        node = await session.events.wait_for(
            lambda p, eid=execution_id: (
                p["executionId"] == eid and p["event"]["event"] == "node_finished"
            ),
            since=mark,
        )
        tree = await session.request("flowrun/execution", {"executionId": execution_id})
        first = next(c for c in tree["children"] if c["id"] == node["event"]["node"])
        if first["status"] != node["event"]["status"]:
            stale.append(f"node {first['id']}: {first['status']}")
        finished = await session.events.wait_for(
            lambda p, eid=execution_id: (
                p["executionId"] == eid and p["event"]["event"] == "execution_finished"
            ),
            since=mark,
        )
        tree = await session.request("flowrun/execution", {"executionId": execution_id})
        if tree["status"] != finished["event"]["status"]:
            stale.append(f"execution: {tree['status']}")
    assert stale == []
