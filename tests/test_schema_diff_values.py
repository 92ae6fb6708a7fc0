"""`schema diff`: a break at a value written in the operation
(a literal, not a variable) names the argument or input field it is given to and the schema
change that caused it, as README promises of every break ("Each break names the file and line,
the field, and the schema change that caused it").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_helpers import Cli, clean_env, cli

__all__ = ["clean_env", "cli"]  # fixtures, used by name

OLD = """\
input Filter { name: String, size: Int }
type Query { things(filter: Filter, first: Int): [Int]  viewer: Viewer }
type Viewer { email(format: String): String }
"""
NEW = (
    OLD.replace("email(format: String)", "email(format: String!)")  # null no longer allowed
    .replace("first: Int)", "first: String)")  # an argument of another type
    .replace("size: Int }", "size: Boolean }")  # an input field of another type
)
# name -> (the operation, the element its break names, the change it names as the cause)
OPERATIONS = {
    "passesNull": (
        "query passesNull { viewer { email(format: null) } }",
        "argument Viewer.email(format:)",
        "ARG_CHANGED_KIND",
    ),
    "passesAnInt": (
        "query passesAnInt { things(first: 3) }",
        "argument Query.things(first:)",
        "ARG_CHANGED_KIND",
    ),
    "writesASize": (
        "query writesASize { things(filter: {size: 2}) }",
        "input field Filter.size",
        "FIELD_CHANGED_KIND",
    ),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_a_break_at_a_literal_value_names_its_argument_or_input_field_and_the_cause(
    cli: Cli, clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    text, element, change = OPERATIONS[name]
    (tmp_path / "old.graphql").write_text(OLD)
    (tmp_path / "new.graphql").write_text(NEW)
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "a.graphql").write_text(text + "\n")
    monkeypatch.chdir(tmp_path)
    run = cli("schema", "diff", "old.graphql", "new.graphql", "--queries", "ops", "--no-builtin")
    assert run.code == 1, run
    [line] = [
        ln.strip() for ln in run.out.splitlines() if ln.strip().startswith("ops/a.graphql:1:")
    ]
    assert line.startswith(f"ops/a.graphql:1: {element}: "), line
    assert f"[{change}: " in line, line


def test_a_directive_argument_newly_deprecated_is_a_change_and_marked_as_new(
    cli: Cli, clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: the changes list 'newly deprecated fields, arguments, enum values and input
    fields'; a directive's argument is an argument, and the operation's line says it is new."""
    old = "directive @cached(ttl: Int) on FIELD\ntype Query { a: Int }\n"
    new = old.replace("ttl: Int)", 'ttl: Int @deprecated(reason: "no TTLs now"))')
    (tmp_path / "old.graphql").write_text(old)
    (tmp_path / "new.graphql").write_text(new)
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "a.graphql").write_text("query cachedA { a @cached(ttl: 5) }\n")
    monkeypatch.chdir(tmp_path)
    run = cli("schema", "diff", "old.graphql", "new.graphql", "--queries", "ops", "--no-builtin")
    assert run.code == 0, run
    assert re.search(
        r"ARG_DEPRECATED +Argument @cached\(ttl:\) was deprecated: no TTLs now", run.out
    )
    assert "[used by cachedA]" in run.out
    assert "argument @cached(ttl:) is deprecated: no TTLs now (newly deprecated)" in run.out
