"""Mocks (`options.mocks`, a workflow test's): the node does not run; it returns the mock's
output or fails with its error; in a loop, one result per iteration; never in production."""

from __future__ import annotations

from tests.engine.conftest import Engine, node, stage, workflow

FAILING = {"run": "echo ran; exit 3"}


def test_a_mocked_node_returns_its_output_without_running(engine: Engine) -> None:
    run = engine(
        workflow(
            node("llm", "shell", with_=FAILING, has_pin=True, pin="the pin loses"),
            node("use", with_={"value": "${{ nodes.llm.output.content }}!"}, needs=["llm"]),
            outputs={"out": "${{ nodes.use.output }}"},
            mocks={"llm": [{"output": {"content": "mocked"}}]},
        )
    )
    assert run.status == "succeeded"
    assert run.of("node_started", "llm") == []
    finished = run.of("node_finished", "llm")[0]
    assert finished["mocked"] is True and "pinned" not in finished
    assert finished["attempt"] == 0 and finished["output"] == {"content": "mocked"}
    assert run.finished["outputs"] == {"out": "mocked!"}


def test_a_mocked_error_fails_the_node_and_stops_the_run(engine: Engine) -> None:
    error = {"type": "ProviderError", "message": "429 Too Many Requests"}
    run = engine(
        workflow(
            node("llm", "shell", with_=FAILING),
            node("after", needs=["llm"]),
            node("slow", "shell", with_={"run": "sleep 5"}, needs=["after"]),
            mocks={"llm": [{"error": error}]},
        )
    )
    assert run.status == "failed"
    finished = run.of("node_finished", "llm")[0]
    assert finished["status"] == "failed" and finished["mocked"] is True
    assert finished["error"] == error
    assert run.finished["error"]["type"] == "ProviderError"
    assert run.finished["error"]["node"] == "llm"
    assert run.node_status("after") == "skipped"
    assert run.of("node_started", "slow") == []


def test_a_mocked_error_with_on_failure_continue_lets_other_branches_run(engine: Engine) -> None:
    run = engine(
        workflow(
            node("llm", "shell", with_=FAILING, on_failure="continue"),
            node("other"),
            mocks={"llm": [{"error": {"type": "HTTPError", "message": "500"}}]},
        )
    )
    assert run.status == "failed"
    assert run.node_status("other") == "succeeded"


def test_a_list_mock_gives_one_result_per_loop_iteration_the_last_repeating(
    engine: Engine,
) -> None:
    loop = {"max_iters": 4, "until": "${{ nodes.check.output == 'done' }}", "fallback": None}
    run = engine(
        workflow(
            stages=[
                stage("review", node("check", "shell", with_=FAILING), loop=loop),
            ],
            mocks={"check": [{"output": "again"}, {"output": "again"}, {"output": "done"}]},
        )
    )
    assert run.status == "succeeded"
    assert [e["output"] for e in run.of("node_finished", "check")] == ["again", "again", "done"]
    assert [e["iteration"] for e in run.of("node_finished", "check")] == [1, 2, 3]

    exhausted = engine(
        workflow(
            stages=[stage("review", node("check", "shell", with_=FAILING), loop=loop)],
            mocks={"check": [{"output": "again"}]},
        )
    )
    assert [e["output"] for e in exhausted.of("node_finished", "check")] == ["again"] * 4
    assert exhausted.finished["error"]["type"] == "LoopExhausted"


def test_mocks_never_apply_in_production(engine: Engine) -> None:
    run = engine(
        workflow(
            node("real", "shell", with_={"run": "echo real"}),
            mocks={"real": [{"output": "mocked"}]},
        ),
        {"FLOWRUN_EXECUTION_MODE": "production"},
    )
    assert run.status == "succeeded"
    assert run.output("real")["stdout"] == "real"
    assert "mocked" not in run.of("node_finished", "real")[0]
