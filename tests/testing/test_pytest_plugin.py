"""The `flowrun` pytest plugin, through pytester in a real `pytest` subprocess: the entry point
of the installed package is what loads it, as in a user's project."""

from __future__ import annotations

import shutil
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SAMPLE = Path(__file__).parents[1] / "workflow_samples" / "summarize.workflow.yml"
NO_TESTS = """\
version: 1
nodes:
  - {id: a, type: transform, with: {value: 1}}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\n")  # the project's root
    (pytester.path / ".git").mkdir()  # the history goes to <root>/.flowrun
    flows = pytester.path / "flows"
    flows.mkdir()
    shutil.copy(SAMPLE, flows / "summarize.workflow.yml")
    (flows / "plain.workflow.yml").write_text(NO_TESTS)
    pytester.makepyfile(test_code="def test_python_code():\n    assert 1 + 1 == 2\n")
    return pytester


def installed() -> bool:
    """Whether this environment's flowrun declares the entry point (a checkout whose venv was
    made before the plugin existed must re-run scripts/setup.sh; then the plugin is loaded
    by name)."""
    found = entry_points(group="pytest11", name="flowrun")
    return any(e.value == "flowrun.pytest_plugin" for e in found)


LOAD = [] if installed() else ["-p", "flowrun.pytest_plugin"]


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess(
        *LOAD, "--flowrun-python", sys.executable, "-p", "no:cacheprovider", *args
    )


def test_workflow_tests_are_collected_as_path_and_name_beside_python_tests(
    project: pytest.Pytester,
) -> None:
    result = run(project, "--collect-only", "-q")
    lines = [line for line in result.outlines if "::" in line]
    assert lines == [
        "flows/summarize.workflow.yml::summarises a short text",
        "flows/summarize.workflow.yml::a provider error fails the run",
        "flows/summarize.workflow.yml::expects the wrong summary",
        "test_code.py::test_python_code",
    ]


def test_plain_pytest_runs_them_and_shows_the_failed_expectation(
    project: pytest.Pytester,
) -> None:
    result = run(project, "-v")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*summarize.workflow.yml::summarises a short text PASSED*",
            "*summarize.workflow.yml::expects the wrong summary FAILED*",
            "*_ expects the wrong summary _*",
            'flows/summarize.workflow.yml:48: expect.outputs.summary: expected "It runs them'
            ' locally.", got "It runs in the cloud."',
            '    -"It runs them locally."',
            '    +"It runs in the cloud."',
            "execution * (flowrun show *)",
        ]
    )


def test_keyword_selection_junit_and_the_history(project: pytest.Pytester) -> None:
    result = run(project, "-k", "provider", "--junitxml", "report.xml")
    result.assert_outcomes(passed=1, deselected=3)
    report = (project.path / "report.xml").read_text()
    assert 'name="a provider error fails the run"' in report
    assert (project.path / ".flowrun" / "history.sqlite3").is_file()


def test_an_invalid_file_fails_its_tests_with_the_first_problem(project: pytest.Pytester) -> None:
    path = project.path / "flows" / "summarize.workflow.yml"
    path.write_text(path.read_text().replace("needs: [clean]", "needs: [claen]"))
    result = run(project, "-k", "workflow")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*the workflow file is invalid: *needs `claen`*"])


def test_the_plugin_can_be_turned_off(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "no:flowrun", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_package_declares_the_entry_point() -> None:
    import tomllib

    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["entry-points"]["pytest11"]
    assert declared == {"flowrun": "flowrun.pytest_plugin"}
