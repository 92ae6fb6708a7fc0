"""`make schema` interrupted (Ctrl-C) at its last step: the one line it prints says what became
of schema.graphql, which by then has been replaced."""

from __future__ import annotations

import builtins
import importlib
from pathlib import Path
from types import ModuleType

import graphql
import pytest
from pytest_httpx import HTTPXMock
from test_packaging import _make  # make as from a shell, not as a sub-make

ROOT = Path(__file__).resolve().parent.parent
URL = "https://kraken.test/v1/graphql/"
OLD = "type Query { viewer: Viewer }\ntype Viewer { email: String }\n"
NEW = "type Query { viewer: Viewer }\ntype Viewer { email: String givenName: String }\n"


def _tool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    return importlib.import_module("schema_tool")


def test_ctrl_c_after_the_rename_says_the_schema_was_replaced_not_left_unchanged(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    httpx_mock: HTTPXMock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tool = _tool(monkeypatch)
    schema = tmp_path / "schema.graphql"
    schema.write_text(OLD, encoding="utf-8")
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "a.graphql").write_text("query a { viewer { email } }\n")
    answer = graphql.graphql_sync(graphql.build_schema(NEW), graphql.get_introspection_query())
    httpx_mock.add_response(url=URL, method="POST", json={"data": answer.data})
    monkeypatch.setenv("KRAKEN_URL", URL)
    monkeypatch.delenv("KRAKEN_TOKEN", raising=False)

    def print_until_replaced(*args: object, **kwargs: object) -> None:
        if any("Replaced" in str(a) for a in args):  # Ctrl-C lands as the last line is written
            raise KeyboardInterrupt
        builtins.print(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(tool, "print", print_until_replaced, raising=False)

    code = tool.main(["fetch", "--schema", str(schema), "--queries", str(tmp_path / "queries")])

    assert code == 130
    assert "givenName" in schema.read_text(encoding="utf-8")  # replaced, whole
    (line,) = capsys.readouterr().err.splitlines()
    assert "left unchanged" not in line
    assert line.startswith("schema: interrupted; ")
    assert "was replaced all the same" in line


@pytest.mark.slow
def test_make_schema_check_names_the_tools_status_and_readme_says_make_exits_2(
    tmp_path: Path,
) -> None:
    # README gave `make schema`'s statuses (1: breaks us, 2: bad input, 3: unreachable) as if
    # make exited with them; make exits 2 for any failing recipe.
    candidate = tmp_path / "candidate.graphql"
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    candidate.write_text(sdl.replace("getFanClubDiscount", "fanClubDiscount"), encoding="utf-8")

    done = _make(ROOT, "schema-check", f"SCHEMA={candidate}")

    assert done.returncode == 2
    assert "schema-check] Error 1" in done.stderr  # the tool's own verdict: it breaks us
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "make names a failing one" in readme
    assert "`.venv/bin/python tools/schema_tool.py fetch` (`make schema`)" in readme


@pytest.mark.parametrize(
    ("setting", "option"),
    [("ALLOW_BREAKING=0", "--allow-breaking"), ("FAIL_ON_DEPRECATED=0", "--fail-on-deprecated")],
)
def test_make_switches_set_to_0_are_off(setting: str, option: str) -> None:
    # `make schema ALLOW_BREAKING=0` wrote a schema that breaks our operations: any text was on.
    target = "schema" if setting.startswith("ALLOW") else "generate"

    assert option not in _make(ROOT, "-n", target, setting).stdout
    assert option in _make(ROOT, "-n", target, setting.replace("=0", "=1")).stdout
