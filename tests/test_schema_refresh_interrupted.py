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
