"""Whole executions, each run in-process (ListSink) and as a real child (fd 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import Engine, EngineRun, node, stage, workflow


def py(code: str, **kw: Any) -> dict[str, Any]:
    return {"with_": {"code": code}, **kw}


def sleeper(node_id: str, seconds: float, **kw: Any) -> dict[str, Any]:
    return node(
        node_id,
        "python",
        with_={
            "code": f"import time\ndef main():\n    time.sleep({seconds})\n    return '{node_id}'"
        },
        **kw,
    )


def positions(run: EngineRun) -> dict[tuple[str, str], int]:
    return {(e["event"], e.get("node", "")): i for i, e in enumerate(run.events)}


def test_fan_out_fan_in_order_and_outputs(engine: Engine) -> None:
    run = engine(
        workflow(
            node("a", with_={"value": 1}),
            *(
                node(n, with_={"value": f"${{{{ nodes.a.output + {k} }}}}"}, needs=["a"])
                for k, n in enumerate(["b", "c", "d"], 1)
            ),
            node(
                "e",
                needs=["b", "c", "d"],
                with_={
                    "value": [
                        "${{ nodes.b.output }}",
                        "${{ nodes.c.output }}",
                        "${{ nodes.d.output }}",
                    ]
                },
            ),
            outputs={
                "total": "${{ nodes.e.output }}",
                "broken": "${{ 1 + 'x' }}",
                "missing": "${{ nodes.nope.output }}",
            },
        )
    )
    assert run.status == "succeeded"
    pos = positions(run)
    for mid in "bcd":
        assert pos[("node_finished", "a")] < pos[("node_started", mid)]
        assert pos[("node_finished", mid)] < pos[("node_started", "e")]
    assert run.output("e") == [2, 3, 4]
    assert run.finished["outputs"] == {"total": [2, 3, 4], "broken": None, "missing": None}
    assert run.finished["error"] is None
    started = run.events[0]
    assert started["event"] == "execution_started" and started["workflow_id"] == "demo"
    assert [n["id"] for n in started["plan"]["stages"][0]["nodes"]] == list("abcde")
    assert run.of("node_started", "b")[0]["input"] == {"value": 2}
    assert all(e["stage"] is None and e["iteration"] is None for e in run.of("node_finished"))


def test_max_parallel_is_honoured(engine: Engine) -> None:
    run = engine(workflow(*(sleeper(f"n{i}", 0.15) for i in range(6)), max_parallel=2))
    assert run.status == "succeeded"
    running = peak = 0
    for event in run.events:
        if event["event"] == "node_started":
            running += 1
        elif event["event"] == "node_finished":
            running -= 1
        peak = max(peak, running)
    assert peak == 2


def test_when_false_skips_the_node_and_its_dependents(engine: Engine) -> None:
    run = engine(
        workflow(
            node("off", when="${{ inputs.flag == 'yes' }}"),
            node("after_off", needs=["off"]),
            node("uses_off", with_={"value": "${{ nodes.off.output }}"}),
            node("on", when="inputs.flag == 'no'"),
            node("after_on", needs=["on"], when=True),
            inputs={"flag": "no"},
        )
    )
    assert run.status == "succeeded"
    for skipped in ("off", "after_off", "uses_off"):
        assert run.node_status(skipped) == "skipped"
        assert run.of("node_started", skipped) == []
    assert run.of("node_finished", "after_off")[0]["reason"] == "`off` did not succeed"
    assert run.node_status("on") == "succeeded" and run.node_status("after_on") == "succeeded"


def test_on_failure_stop_stops_running_and_skips_pending(engine: Engine) -> None:
    run = engine(
        workflow(
            node("bad", "shell", with_={"run": "sleep 0.2; echo broken >&2; exit 3"}),
            node("slow", "shell", with_={"run": "sleep 30"}),
            node("later", needs=["slow"]),
        )
    )
    assert run.status == "failed"
    assert run.node_status("bad") == "failed"
    assert run.node_status("slow") == "stopped"
    assert run.node_status("later") == "skipped"
    error = run.finished["error"]
    assert error["type"] == "ExecutionError" and error["node"] == "bad"
    assert "exited with code 3" in error["message"] and "broken" in error["message"]
    assert [e["node"] for e in error["errors"]] == ["bad"]
    assert run.output("bad") == {"exit_code": 3, "stdout": "", "stderr": "broken"}


def test_on_failure_continue_lists_every_error(engine: Engine) -> None:
    run = engine(
        workflow(
            node("a", "shell", with_={"run": "exit 1"}, on_failure="continue"),
            node("b", needs=["a"]),
            node("c", with_={"value": "fine"}),
            node(
                "d",
                "shell",
                with_={"run": ["sh", "-c", "sleep 0.1; exit 2"]},
                on_failure="continue",
                needs=["c"],
            ),
            outputs={"c": "${{ nodes.c.output }}", "a": "${{ nodes.a.output.stdout }}"},
        )
    )
    assert run.status == "failed"
    assert run.node_status("b") == "skipped" and run.node_status("c") == "succeeded"
    error = run.finished["error"]
    assert error["node"] == "a"
    assert [e["node"] for e in error["errors"]] == ["a", "d"]
    assert run.finished["outputs"] == {"c": "fine", "a": ""}


def test_retries_with_exponential_backoff(engine: Engine, tmp_path: Path) -> None:
    counter = tmp_path / "n"
    script = (
        f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; [ $n -ge 3 ]"
    )
    run = engine(
        workflow(
            node(
                "flaky",
                "shell",
                with_={"run": script},
                retry={"attempts": 4, "backoff": 0.01, "factor": 3, "max_delay": 0.05},
            ),
            node(
                "never",
                "shell",
                with_={"run": "exit 1"},
                retry={"attempts": 2, "backoff": 0.01},
                on_failure="continue",
            ),
        )
    )
    assert [e["attempt"] for e in run.of("node_started", "flaky")] == [1, 2, 3]
    retries = run.of("node_retry", "flaky")
    assert [(e["attempt"], e["delay"]) for e in retries] == [(1, 0.01), (2, 0.03)]
    assert retries[0]["error"]["type"] == "ExecutionError"
    assert run.node_status("flaky") == "succeeded"
    assert run.of("node_finished", "flaky")[0]["attempt"] == 3
    assert len(run.of("node_retry", "never")) == 1
    assert run.of("node_finished", "never")[0]["attempt"] == 2
    assert run.status == "failed"


def test_node_timeout_for_shell_and_python(engine: Engine) -> None:
    run = engine(
        workflow(
            node("sh", "shell", with_={"run": "sleep 30"}, timeout=0.3, on_failure="continue"),
            sleeper("pyn", 30, timeout=0.3, on_failure="continue"),
        )
    )
    assert run.status == "failed"
    for node_id in ("sh", "pyn"):
        error = run.of("node_finished", node_id)[0]["error"]
        assert error["type"] == "NodeTimeout"
        assert f"node `{node_id}` did not finish within 0.3 s" == error["message"]


def test_execution_timeout(engine: Engine) -> None:
    run = engine(
        workflow(
            node("slow", "shell", with_={"run": "sleep 30"}),
            node("next", needs=["slow"]),
            timeout=0.5,
        )
    )
    assert run.status == "timed_out"
    assert run.finished["error"]["type"] == "ExecutionTimeout"
    assert run.node_status("slow") == "stopped"
    assert run.node_status("next") == "skipped"


def test_loop_until(engine: Engine) -> None:
    run = engine(
        workflow(
            stages=[
                stage(
                    "work",
                    node("count", with_={"value": "${{ loop.iteration }}"}),
                    loop={
                        "max_iters": 5,
                        "until": "${{ nodes.count.output >= 2 }}",
                        "fallback": None,
                    },
                ),
                stage("done", node("final", with_={"value": "${{ nodes.count.output }}"})),
            ]
        )
    )
    assert run.status == "succeeded"
    assert [e["iteration"] for e in run.of("node_finished", "count")] == [1, 2]
    assert [e["output"] for e in run.of("node_finished", "count")] == [1, 2]
    assert [(e["stage"], e["iteration"]) for e in run.of("stage_started")] == [
        ("work", 1),
        ("work", 2),
        ("done", None),
    ]
    assert [e["status"] for e in run.of("stage_finished")] == ["succeeded"] * 3
    assert run.output("final") == 2


def test_loop_exhausted_without_fallback_fails(engine: Engine) -> None:
    run = engine(
        workflow(
            stages=[
                stage(
                    "work",
                    node("a"),
                    loop={"max_iters": 2, "until": "${{ false }}", "fallback": None},
                ),
                stage("after", node("b")),
            ]
        )
    )
    assert run.status == "failed"
    assert run.finished["error"]["type"] == "LoopExhausted"
    assert "ran 2 times" in run.finished["error"]["message"]
    assert run.node_status("b") == "skipped"
    assert run.of("stage_finished")[-1] == {
        **run.of("stage_finished")[-1],
        "stage": "after",
        "status": "skipped",
    }


def test_loop_exhausted_with_fallback_jumps_there(engine: Engine) -> None:
    run = engine(
        workflow(
            stages=[
                stage(
                    "work",
                    node("a"),
                    loop={"max_iters": 2, "until": "${{ false }}", "fallback": "report"},
                ),
                stage("between", node("b"), node("b2")),
                stage("report", node("r", with_={"value": "${{ nodes.b.status }}"})),
            ]
        )
    )
    assert run.status == "succeeded"
    assert run.node_status("b") == "skipped" and run.node_status("b2") == "skipped"
    assert run.output("r") == "skipped"
    assert [e["iteration"] for e in run.of("node_finished", "a")] == [1, 2]


def test_loop_with_bad_until_fails(engine: Engine) -> None:
    run = engine(
        workflow(
            stages=[
                stage(
                    "work",
                    node("a"),
                    loop={"max_iters": 2, "until": "${{ 1 < 'x' }}", "fallback": None},
                ),
            ]
        )
    )
    assert run.status == "failed"
    assert "`until` of stage `work` failed" in run.finished["error"]["message"]


def test_secrets_are_redacted_everywhere(engine: Engine) -> None:
    secret = 's3cr3t-t0ken-"quoted"'
    run = engine(
        workflow(
            node("t", with_={"value": "key=${{ secrets.API_KEY }}"}),
            node(
                "sh",
                "shell",
                with_={"run": 'echo $API_KEY; echo "$API_KEY" >&2; exit 1'},
                on_failure="continue",
            ),
            node(
                "p",
                "python",
                with_={
                    "code": "import os\ndef main():\n    print(os.environ['API_KEY'])\n"
                    "    raise ValueError(os.environ['API_KEY'])"
                },
                on_failure="continue",
            ),
            secrets=["API_KEY", "ABSENT"],
            outputs={"leak": "${{ secrets.API_KEY }}"},
        ),
        {"API_KEY": secret},
    )
    assert secret not in run.raw
    assert "s3cr3t" not in run.raw
    assert run.output("t") == "key=***"
    assert run.finished["outputs"] == {"leak": "***"}
    assert "***" in run.logs("sh") and "***" in run.logs("p")
    assert "***" in run.of("node_finished", "p")[0]["error"]["traceback"]


def test_pin_and_given_outputs_skip_running(engine: Engine) -> None:
    run = engine(
        workflow(
            node(
                "pinned",
                "shell",
                with_={"run": "exit 1"},
                has_pin=True,
                pin={"exit_code": 0, "stdout": "pinned"},
            ),
            node("given", "shell", with_={"run": "exit 1"}),
            node(
                "use",
                with_={"value": "${{ nodes.pinned.output.stdout }}+${{ nodes.given.output }}"},
                needs=["pinned", "given"],
            ),
            given_outputs={"given": "earlier"},
        )
    )
    assert run.status == "succeeded"
    assert run.of("node_started", "pinned") == [] and run.of("node_started", "given") == []
    assert run.of("node_finished", "pinned")[0]["pinned"] is True
    assert run.of("node_finished", "given")[0]["given"] is True
    assert run.output("use") == "pinned+earlier"


def test_expression_failure_fails_the_node(engine: Engine) -> None:
    run = engine(workflow(node("a", with_={"value": "${{ 1 + 'x' }}"})))
    assert run.status == "failed"
    error = run.finished["error"]
    assert error["type"] == "ExecutionError" and "an expression failed" in error["message"]
    assert run.of("node_started", "a") == []


def test_stages_get_events_and_barriers(engine: Engine) -> None:
    run = engine(
        workflow(
            stages=[
                stage("one", sleeper("slow", 0.1), node("fast"), mode="parallel"),
                stage("two", node("x"), node("y")),
            ]
        )
    )
    assert run.status == "succeeded"
    pos = positions(run)
    assert pos[("node_finished", "slow")] < pos[("node_started", "x")]
    assert pos[("node_finished", "x")] < pos[("node_started", "y")]
    assert run.of("node_finished", "x")[0]["stage"] == "two"
    assert [(e["stage"], e["status"]) for e in run.of("stage_finished")] == [
        ("one", "succeeded"),
        ("two", "succeeded"),
    ]


def test_trigger_inputs_env_and_flowrun_vars(engine: Engine, tmp_path: Path) -> None:
    run = engine(
        workflow(
            node(
                "t",
                with_={"value": {"body": "${{ trigger.body.text }}", "env": "${{ env.LEVEL }}"}},
            ),
            node("sh", "shell", with_={"run": "echo $LEVEL $FLOWRUN_WORKFLOW_ID $FLOWRUN_NODE_ID"}),
            env={"LEVEL": "info"},
            cwd=str(tmp_path),
            trigger={
                "method": "POST",
                "path": "/x",
                "headers": {},
                "query": {},
                "body": {"text": "hello"},
            },
        )
    )
    assert run.output("t") == {"body": "hello", "env": "info"}
    assert run.output("sh")["stdout"] == "info demo sh"


def test_prints_of_concurrent_python_nodes_go_to_their_own_node(engine: Engine) -> None:
    code = (
        "import time\ndef main(me):\n    for i in range(20):\n        print(me, i)\n"
        "        time.sleep(0.005)\n    return me"
    )
    run = engine(
        workflow(*(node(n, "python", with_={"code": code, "args": {"me": n}}) for n in "abc"))
    )
    assert run.status == "succeeded"
    for n in "abc":
        assert run.logs(n) == [f"{n} {i}" for i in range(20)]
