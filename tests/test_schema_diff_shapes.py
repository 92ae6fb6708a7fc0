"""`schema diff` on the shapes a schema change takes beyond fields and arguments: input fields'
defaults, interfaces gaining and losing implementations, unions changing members, enum values
removed and deprecated, input fields made required, directives changed, descriptions only; each
change on one line, and the exit status README gives each verdict (0 fine, 1 breaks, 2 usage).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import Cli, Run, clean_env, cli

__all__ = ["clean_env", "cli"]  # fixtures, used by name

OLD = '''\
"""The old one."""
directive @tag(name: String!) on FIELD_DEFINITION | OBJECT
interface Node { id: ID! }
interface Named { name: String }
type A implements Node & Named { id: ID! name: String }
type B implements Node { id: ID! size(unit: Unit = KWH): Int }
union AB = A | B
enum Unit { KWH WH MWH }
input Filter { kind: String, unit: Unit = KWH, limit: Int = 10, page: Int = 1 }
type Query { node(id: ID!): Node  ab: [AB]  things(filter: Filter): [A]  unit: Unit }
'''
NEW = '''\
"""The new one, described otherwise."""
directive @tag(name: String!, extra: Int!) on FIELD_DEFINITION
interface Node { id: ID! }
interface Named { name: String }
type A implements Node { id: ID! name: String }
type B implements Node & Named { id: ID! name: String size(unit: Unit = WH): Int }
type C implements Node { id: ID! }
union AB = A | C
enum Unit { KWH WH @deprecated(reason: "use KWH") }
input Filter { kind: String!, unit: Unit = WH, limit: Int, page: Int = 1 }
type Query { node(id: ID!): Node  ab: [AB]  things(filter: Filter): [A]  unit: Unit }
'''


def _diff(tmp_path: Path, cli: Cli, old: str, new: str, operations: str, *more: str) -> Run:
    (tmp_path / "old.graphql").write_text(old)
    (tmp_path / "new.graphql").write_text(new)
    (tmp_path / "ops").mkdir(exist_ok=True)
    (tmp_path / "ops" / "a.graphql").write_text(operations)
    return cli(
        "schema", "diff", "old.graphql", "new.graphql", "--queries", "ops", "--no-builtin", *more
    )


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_an_input_field_whose_default_changed_or_went_is_dangerous_and_names_who_sends_it(
    cli: Cli, here: Path
) -> None:
    # graphql-core 3.2 reports an argument's default changing, never an input field's: the
    # report said "0 dangerous" while `things(filter: {})` came to mean WH and no limit.
    run = _diff(here, cli, OLD, NEW, 'query sends { things(filter: {kind: "x"}) { id } }\n')

    lines = run.out.splitlines()
    assert any(
        re.fullmatch(
            r" +INPUT_FIELD_DEFAULT_VALUE_CHANGE +Filter\.unit has changed defaultValue from KWH"
            r" to WH\.  \[used by sends\]",
            line,
        )
        for line in lines
    ), run.out
    assert any(
        re.fullmatch(
            r" +INPUT_FIELD_DEFAULT_VALUE_CHANGE +Filter\.limit defaultValue was removed\."
            r"  \[used by sends\]",
            line,
        )
        for line in lines
    ), run.out
    assert "Filter.page" not in run.out  # unchanged


def test_an_input_field_made_nullable_as_its_default_changed_is_listed_for_both(
    cli: Cli, here: Path
) -> None:
    old = "input F { n: Int! = 1 }\ntype Query { f(x: F): Int }\n"
    new = "input F { n: Int = 2 }\ntype Query { f(x: F): Int }\n"
    run = _diff(here, cli, old, new, "query q($x: F) { f(x: $x) }\n", "--json")

    assert run.code == 0, run
    assert '"INPUT_FIELD_DEFAULT_VALUE_CHANGE"' in run.out
    assert '"INPUT_FIELD_TYPE_CHANGED"' in run.out


@pytest.mark.parametrize("sends", ["{a: 1}", "$x"])
def test_a_required_input_field_added_is_said_to_validate_only_where_it_does(
    cli: Cli, here: Path, sends: str
) -> None:
    # Before: `f(x: {a: 1})`, which no longer validates, was said to "still validate, but
    # break" as well, as if it were sent through a variable.
    old = "input I { a: Int }\ntype Query { f(x: I): Int }\n"
    new = "input I { a: Int, c: Int! }\ntype Query { f(x: I): Int }\n"
    variables = "($x: I)" if sends == "$x" else ""
    run = _diff(here, cli, old, new, f"query q{variables} {{ f(x: {sends}) }}\n")

    assert run.code == 1, run
    assert re.search(r"^q +breaks +ops/a\.graphql:1$", run.out, re.MULTILINE), run.out
    assert ("still validates" in run.out) == (sends == "$x"), run.out
    assert ("was not provided" in run.out) == (sends != "$x"), run.out


def test_an_argument_or_input_field_made_required_is_used_by_whoever_leaves_it_out(
    cli: Cli, here: Path
) -> None:
    # Before: each change listed only the operations writing the argument or input field, so
    # the JSON's used_by missed the very operations it broke (omitsA, omitsB).
    old = "input I { b: Int }\ntype Query { f(a: Int, x: I): Int }\n"
    new = "input I { b: Int! }\ntype Query { f(a: Int!, x: I): Int }\n"
    operations = (
        "query omitsA { f(x: {b: 1}) }\nquery writesA { f(a: 1, x: {b: 1}) }\n"
        "query omitsB { f(a: 1, x: {}) }\nquery writesB { f(a: 2, x: {b: 2}) }\n"
    )
    run = _diff(here, cli, old, new, operations, "--json")

    assert run.code == 1, run
    report = json.loads(run.out)
    used_by = {c["coordinate"]: c["used_by"] for c in report["changes"]["breaking"]}
    assert set(used_by["Query.f(a:)"]) >= {"omitsA"}, used_by
    assert set(used_by["I.b"]) >= {"omitsB"}, used_by
    broken = {o["name"] for o in report["operations"] if o["verdict"] == "breaks"}
    assert broken == {"omitsA", "omitsB"}, report["operations"]


SHAPES = {
    # operation -> its verdict, and a line the report must hold
    "query viaUnion { ab { ... on A { id } ... on B { id } } }": (
        "breaks",
        "TYPE_REMOVED_FROM_UNION        B was removed from union type AB.  [used by viaUnion]",
    ),
    "query sendsFilter($f: Filter) { things(filter: $f) { id } }": (
        "breaks",
        "input field Filter.kind: still validates, but breaks: FIELD_CHANGED_KIND",
    ),
    # A literal is judged by validation, as the server judges it. Before: Filter.kind made
    # String! broke an operation writing `kind: "x"` "although it still validates".
    'query writesKind { things(filter: {kind: "x"}) { id } }': (
        "fine",
        "FIELD_CHANGED_KIND             Filter.kind changed type from String to String!.",
    ),
    "query omitsKind { things(filter: {}) { id } }": (
        "breaks",
        "Field 'Filter.kind' of required type 'String!' was not provided.",
    ),
    "query readsUnit { unit }": (
        "fine",  # an output enum losing a value breaks no reader
        "VALUE_REMOVED_FROM_ENUM        MWH was removed from enum type Unit.",
    ),
    'query viaInterface { node(id: "1") { id ... on B { size } } }': (
        "fine",
        "IMPLEMENTED_INTERFACE_ADDED    Named added to interfaces implemented by B.",
    ),
}


@pytest.mark.parametrize("operation", sorted(SHAPES))
def test_interface_union_enum_and_input_changes_give_each_operation_its_verdict_and_exit_status(
    cli: Cli, here: Path, operation: str
) -> None:
    verdict, line = SHAPES[operation]
    run = _diff(here, cli, OLD, NEW, operation + "\n")

    assert run.code == {"breaks": 1, "fine": 0}[verdict], run
    name = operation.split()[1].split("(")[0]
    assert re.search(rf"^{name} +{verdict} +ops/a\.graphql:1$", run.out, re.MULTILINE), run.out
    assert " ".join(line.split()) in " ".join(run.out.split())  # columns aside
    for other in ("REQUIRED_DIRECTIVE_ARG_ADDED", "DIRECTIVE_LOCATION_REMOVED"):
        assert other in run.out  # listed, though no operation uses @tag


def test_each_change_is_one_line_even_with_a_reason_of_many_lines(cli: Cli, here: Path) -> None:
    old = "type Query { a: Int b: Int }\n"
    new = 'type Query { a: Int @deprecated(reason: """use b\nor c\x1b[31m""") b: Int }\n'
    run = _diff(here, cli, old, new, "query x { a }\n", "--fail-on-deprecated")

    assert run.code == 1
    (line,) = [ln for ln in run.out.splitlines() if "FIELD_DEPRECATED" in ln]
    assert line.endswith(r"Field Query.a was deprecated: use b or c\x1b[31m  [used by x]")
    assert "\x1b" not in run.out


def test_descriptions_alone_are_no_change(cli: Cli, here: Path) -> None:
    new = OLD.replace('"""The old one."""', '"""Described otherwise."""')
    run = _diff(here, cli, OLD, new, "query x { unit }\n")

    assert run.code == 0, run
    assert "Schema changes: 0 breaking, 0 dangerous, 0 safe" in run.out


def test_an_operation_file_that_does_not_parse_is_exit_2_in_one_line(cli: Cli, here: Path) -> None:
    run = _diff(here, cli, OLD, NEW, "query x { unit \n")

    assert (run.code, run.out) == (2, "")
    assert len(run.err.splitlines()) == 1, run.err


def test_an_operation_that_no_longer_validates_is_never_said_to_still_validate(
    cli: Cli, here: Path
) -> None:
    # The type Account renamed AccountType: `... on Account` no longer validates, and the field
    # it is on changed type. Before, that second break read "field Query.account: still
    # validates, but breaks", and --json gave it "still_validates": true.
    old = "type Account { number: String }\ntype Query { account: Account }\n"
    new = "type AccountType { number: String }\ntype Query { account: AccountType }\n"
    operation = "query q {\n  account { ... on Account { number } }\n}\n"
    run = _diff(here, cli, old, new, operation)

    assert run.code == 1, run
    assert "Unknown type 'Account'" in run.out, run.out
    assert "field Query.account: breaks: FIELD_CHANGED_KIND" in run.out, run.out
    assert "still validates" not in run.out, run.out
    listed = json.loads(_diff(here, cli, old, new, operation, "--json").out)
    [verdict] = listed["operations"]
    assert [b["still_validates"] for b in verdict["breaks"]] == [False, False]
