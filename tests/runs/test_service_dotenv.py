"""Reading secrets: the environment first, then the nearest `.env`."""

from __future__ import annotations

from pathlib import Path

from flowrun.runs.dotenv import find_dotenv, load_secrets, parse_dotenv


def test_parse_dotenv_forms() -> None:
    text = (
        "# comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "SPACED = around \n"
        "SINGLE='it''s $raw \\n'\n"
        'DOUBLE="line\\nnext \\"q\\" \\t\\x"\n'
        "COMMENTED=value # a comment\n"
        "HASH=a#b\n"
        'QUOTED_COMMENT="v" # c\n'
        'MULTI="first\n'
        'second"\n'
        "EMPTY=\n"
        "not a line\n"
        'UNCLOSED="abc\n'
    )
    values = parse_dotenv(text)
    assert values["PLAIN"] == "value"
    assert values["EXPORTED"] == "yes"
    assert values["SPACED"] == "around"
    assert values["SINGLE"] == "it''s $raw \\n"
    assert values["DOUBLE"] == 'line\nnext "q" \t\\x'
    assert values["COMMENTED"] == "value"
    assert values["HASH"] == "a#b"
    assert values["QUOTED_COMMENT"] == "v"
    assert values["MULTI"] == "first\nsecond"
    assert values["EMPTY"] == ""
    assert values["UNCLOSED"] == '"abc'
    assert "not a line" not in values


def test_find_dotenv_walks_up_to_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    (tmp_path / ".env").write_text("OUTSIDE=1\n")
    assert find_dotenv(deep) is None
    (repo / ".env").write_text("X=1\n")
    assert find_dotenv(deep) == repo / ".env"
    (repo / "a" / ".env").write_text("X=2\n")
    assert find_dotenv(deep) == repo / "a" / ".env"
    assert find_dotenv(deep, stop=deep) is None


def test_load_secrets_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".env").write_text("A=from-file\nB=from-file\n")
    found = load_secrets(["A", "B", "C"], tmp_path, environ={"A": "from-env", "Z": "1"})
    assert found.values == {"A": "from-env", "B": "from-file"}
    assert found.missing == ["C"]
    assert found.dotenv == tmp_path / ".env"
    none = load_secrets(["A"], tmp_path, environ={"A": "x"})
    assert none.dotenv is None and none.missing == []


def test_unreadable_dotenv_counts_as_empty(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".env").write_bytes(b"\xff\xfe bad")
    found = load_secrets(["A"], tmp_path, environ={})
    assert found.missing == ["A"]
