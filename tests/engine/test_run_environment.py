"""The run's environment: `env:` expressions evaluated before any node, short secrets refused."""

from __future__ import annotations

from conftest import Engine, node, run_child, workflow


def test_env_expressions_are_evaluated_with_inputs_trigger_and_secrets(engine: Engine) -> None:
    secret = "s3cr3t-value-42"
    run = engine(
        workflow(
            node("sh", "shell", with_={"run": 'echo "$GREETING|$PATH_SEEN|$TOKEN_COPY|$PLAIN"'}),
            node("ctx", with_={"value": "${{ env.GREETING }}"}),
            env={
                "GREETING": "Hello ${{ inputs.who }}",
                "PATH_SEEN": "${{ trigger.path }}",
                "TOKEN_COPY": "${{ secrets.TOKEN }}",
                "PLAIN": "as is",
            },
            secrets=["TOKEN"],
            inputs={"who": "Ada"},
            trigger={"method": "GET", "path": "/hook", "headers": {}, "query": {}, "body": None},
        ),
        {"TOKEN": secret},
    )
    assert run.status == "succeeded", run.finished
    assert run.output("sh")["stdout"] == "Hello Ada|/hook|***|as is"
    assert run.output("ctx") == "Hello Ada"
    assert secret not in run.raw


def test_the_secret_in_env_reaches_the_process_not_the_literal(engine: Engine) -> None:
    run = engine(
        workflow(
            node("sh", "shell", with_={"run": 'test "$COPY" = "$TOKEN" && echo same'}),
            env={"COPY": "${{ secrets.TOKEN }}"},
            secrets=["TOKEN"],
        ),
        {"TOKEN": "a-long-enough-secret"},
    )
    assert run.output("sh")["stdout"] == "same"


def test_a_failing_env_expression_fails_the_run_before_any_node(engine: Engine) -> None:
    run = engine(workflow(node("a"), env={"N": "${{ 1 + 'x' }}"}))
    assert run.status == "failed"
    assert run.finished["error"]["message"].startswith("`env.N`: an expression failed")
    assert run.of("node_started") == [] and run.node_status("a") == "skipped"


def test_a_secret_shorter_than_four_characters_is_refused(engine: Engine) -> None:
    run = engine(
        workflow(node("a", with_={"value": "${{ secrets.PIN }}"}), secrets=["PIN", "EMPTY"]),
        {"PIN": "q7z", "EMPTY": ""},  # letters: a digit run could occur in a timestamp
    )
    assert run.status == "failed"
    error = run.finished["error"]
    assert error["type"] == "SecretTooShort"
    assert error["message"].startswith("the secret `PIN` is shorter than 4 characters")
    assert "q7z" not in run.raw and run.of("node_started") == []


def test_python_nodes_of_the_engine_process_see_the_evaluated_env() -> None:
    code = "import os\ndef main():\n    return os.environ['GREETING']"
    run = run_child(
        workflow(
            node("py", "python", with_={"code": code}),
            env={"GREETING": "Hello ${{ inputs.who }}"},
            inputs={"who": "Ada"},
        )
    )
    assert run.output("py") == "Hello Ada"
