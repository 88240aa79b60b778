"""flowrun.pyenv against real interpreters and small stand-in executables."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from flowrun import pyenv
from flowrun.pyenv import interpreter, known, packages


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    known.clear_cache()


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def count_spawns(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    real = asyncio.create_subprocess_exec

    async def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    return calls


async def test_the_running_interpreter_is_fine() -> None:
    info = await pyenv.inspect_interpreter(sys.executable)
    assert info.ok and info.problems == []
    assert info.version == "{}.{}.{}".format(*sys.version_info[:3])
    assert info.path == sys.executable
    assert info.executable == sys.executable


async def test_default_is_python3_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    info = await pyenv.inspect_interpreter(None)
    assert info.ok and info.path == str(tmp_path / "bin" / "python3")


async def test_no_python_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    info = await pyenv.inspect_interpreter(None)
    assert not info.ok and info.version is None
    assert info.problems == ["No `python3` or `python` found on PATH."]
    info = await pyenv.inspect_interpreter("python3.99")
    assert info.problems == ["No `python3.99` found on PATH."]


async def test_a_path_that_is_missing_or_not_executable(tmp_path: Path) -> None:
    info = await pyenv.inspect_interpreter(str(tmp_path / "nope"))
    assert not info.ok and "does not exist" in info.problems[0]
    plain = tmp_path / "python"
    plain.write_text("")
    info = await pyenv.inspect_interpreter(str(plain))
    assert info.problems == [f"{plain} is not executable."]


async def test_an_old_python_is_reported_with_its_version(tmp_path: Path) -> None:
    old = script(
        tmp_path, "python3.8", 'echo \'{"executable": "/x/python3.8", "version": "3.8.10"}\'\n'
    )
    info = await pyenv.inspect_interpreter(str(old))
    assert not info.ok
    assert info.version == "3.8.10"
    assert info.problems == [
        f"{old} is Python 3.8.10; Flowrun runs workflows on Python 3.11 or newer."
    ]


async def test_python2_answers_the_probe(tmp_path: Path) -> None:
    # the probe avoids syntax newer Pythons need: check it compiles as a 2.7-era script would
    source = interpreter.PROBE_SOURCE
    assert 'f"' not in source and ":=" not in source
    assert interpreter.version_tuple("2.7.18") == (2, 7, 18)
    assert interpreter.version_tuple("3.13.0rc1") == (3, 13, 0)


async def test_something_that_is_not_python(tmp_path: Path) -> None:
    liar = script(tmp_path, "python", "echo 'not json' >&2; exit 4\n")
    info = await pyenv.inspect_interpreter(str(liar))
    assert not info.ok
    assert info.problems == [f"{liar} did not answer as a Python interpreter (not json)."]
    silent = script(tmp_path, "python-silent", "exit 4\n")
    info = await pyenv.inspect_interpreter(str(silent))
    assert "exit code 4" in info.problems[0]


async def test_a_hanging_interpreter_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interpreter, "PROBE_TIMEOUT", 0.2)
    slow = script(tmp_path, "python", "exec sleep 30\n")
    info = await pyenv.inspect_interpreter(str(slow))
    assert info.problems == [f"{slow} did not answer within 0.2 s."]


async def test_a_file_that_cannot_be_run(tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_bytes(b"\x7fELF garbage")
    broken.chmod(0o755)
    info = await pyenv.inspect_interpreter(str(broken))
    assert not info.ok and info.problems[0].startswith(f"Could not run {broken}")


async def test_checks_are_cached_in_memory_and_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_spawns(monkeypatch)
    first = await pyenv.inspect_interpreter(sys.executable)
    assert len(calls) == 1
    again = await pyenv.inspect_interpreter(sys.executable)
    assert len(calls) == 1 and again == first
    known.clear_cache()  # a new process: the disk cache answers
    cold = await pyenv.inspect_interpreter(sys.executable)
    assert len(calls) == 1 and cold.ok and cold.version == first.version
    cache = json.loads((tmp_path / "cache" / "flowrun" / "interpreters.json").read_text())
    assert any(key.startswith(sys.executable + "|") for key in cache)


async def test_a_changed_interpreter_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = script(tmp_path, "python", f'exec {sys.executable} "$@"\n')
    calls = count_spawns(monkeypatch)
    assert (await pyenv.inspect_interpreter(str(fake))).ok
    fake.write_text(fake.read_text() + "# changed\n")
    os.utime(fake, ns=(1, 1))
    assert (await pyenv.inspect_interpreter(str(fake))).ok
    assert len(calls) == 2
    # a shim: the spawned interpreter is the real one it runs
    assert (await pyenv.inspect_interpreter(str(fake))).executable == sys.executable


async def test_a_corrupt_or_unwritable_cache_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache" / "flowrun"
    folder.mkdir(parents=True)
    (folder / "interpreters.json").write_text("[not a dict")
    assert (await pyenv.inspect_interpreter(sys.executable)).ok
    (folder / "interpreters.json").write_text("[1, 2]")
    known.clear_cache()
    assert (await pyenv.inspect_interpreter(sys.executable)).ok
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    known.clear_cache()
    assert (await pyenv.inspect_interpreter(sys.executable)).ok


def test_disk_cache_stays_small(tmp_path: Path) -> None:
    for index in range(70):
        known.write_disk_cache(f"k{index}", {"executable": "x", "version": "3.11.0"})
    data = known.read_disk_cache()
    assert len(data) == 64 and "k69" in data and "k0" not in data


async def test_missing_packages_in_one_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_spawns(monkeypatch)
    requires = ["PyYAML>=6", "pytest", "rich[jupyter]", "no-such-package-zz9", "Not_There.x"]
    missing = await pyenv.missing_packages(sys.executable, requires)
    assert missing == ["no-such-package-zz9", "Not_There.x"]
    assert len(calls) == 1
    assert await pyenv.missing_packages(sys.executable, []) == []
    assert len(calls) == 1


def test_requirement_names() -> None:
    assert pyenv.requirement_name("httpx[http2]>=0.27") == "httpx"
    assert pyenv.requirement_name("  python-dateutil ; python_version<'3.12'") == "python-dateutil"
    assert pyenv.requirement_name("pkg==1.0") == "pkg"
    assert pyenv.requirement_name("@@") == "@@"
    assert packages.module_name("python-dateutil") == "python_dateutil"
    assert packages.module_name("zope.interface") == "zope_interface"


def test_pip_command() -> None:
    command = pyenv.pip_install_command("/p/python", ["a>=1", "b"])
    assert command == ["/p/python", "-m", "pip", "install", "a>=1", "b"]
    assert packages.display_command(command) == "/p/python -m pip install 'a>=1' b"


async def test_install_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "argv"
    good = script(tmp_path, "python", f'echo "$@" > {log}; echo "Successfully installed x"\n')
    ok, output = await pyenv.install_packages(str(good), ["x>=1"])
    assert ok and "Successfully installed x" in output
    assert log.read_text().split() == ["-m", "pip", "install", "x>=1"]
    bad = script(tmp_path, "python-bad", "echo 'No module named pip'; exit 1\n")
    ok, output = await pyenv.install_packages(str(bad), ["x"])
    assert not ok and "No module named pip" in output and "exited with code 1" in output
    ok, output = await pyenv.install_packages(str(tmp_path / "none"), ["x"])
    assert not ok and output.startswith("Could not run")
    assert await pyenv.install_packages(str(good), []) == (True, "Nothing to install.")
    monkeypatch.setattr(packages, "INSTALL_TIMEOUT", 0.2)
    slow = script(tmp_path, "python-slow", "exec sleep 30\n")
    ok, output = await pyenv.install_packages(str(slow), ["x"])
    assert not ok and "did not finish" in output


async def test_version_specifiers_are_checked() -> None:
    """`requires: ["pkg>=99"]` with an older pkg installed is unmet, like a missing one."""
    import yaml

    assert await pyenv.missing_packages(sys.executable, ["PyYAML>=99"]) == ["PyYAML>=99"]
    requires = ["PyYAML>=99", f"PyYAML=={yaml.__version__}", "pytest<1", "pytest>=1"]
    unmet = await pyenv.unmet_requirements(sys.executable, requires)
    assert [u.requirement for u in unmet] == ["PyYAML>=99", "pytest<1"]
    assert unmet[0].installed == yaml.__version__
    assert pyenv.describe_unmet(unmet).startswith(f"PyYAML>=99 ({yaml.__version__} installed)")
    assert await pyenv.missing_packages(sys.executable, ["no-such-zz9>=1"]) == ["no-such-zz9>=1"]


def test_unparsable_requirements_or_versions_are_not_held_against_a_run() -> None:
    assert packages.satisfies("six>=1", "1.17.0")
    assert not packages.satisfies("six>=99", "1.17.0")
    assert packages.satisfies("six>=2.0rc1", "2.0rc2")  # a pre-release counts
    assert packages.satisfies("six >= = 1", "1.0")
    assert packages.satisfies("six>=1", "not a version")
    assert packages.satisfies("six", "0.1")


async def test_install_reports_each_line_of_pip(tmp_path: Path) -> None:
    good = script(tmp_path, "python", 'echo "Collecting x"; echo "Successfully installed x"\n')
    seen: list[str] = []
    ok, output = await pyenv.install_packages(str(good), ["x"], seen.append)
    assert ok and seen == ["Collecting x", "Successfully installed x"]
    assert output == "Collecting x\nSuccessfully installed x\n"
