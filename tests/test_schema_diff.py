"""`oeus-kraken schema diff OLD NEW`: what a new schema does to your operations.

Two small schemas are written by each test: NEW is OLD with a field removed, a field's type
changed, a field deprecated with a reason, an enum value added and an argument made required.
Each operation in OPERATIONS uses one of those (or nothing that changed), so each verdict and
exit status can be asked for on its own by choosing which operation files a run sees. The
command runs in this process (`cli`), from the test's temporary folder, as a user runs it.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import graphql
import httpx
import pytest
from cli_helpers import Cli, Run, clean_env, cli

from oeus_kraken.cli import main
from oeus_kraken.schema import (
    LoadedSchema,
    deprecation_lines,
    diff_schemas,
    find_changes,
    read_operations,
    read_schema_file,
    schema_from_sdl,
)

__all__ = ["clean_env", "cli"]  # fixtures, used by name

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("schemas_built_once")

OLD_SDL = """\
type Query {
  viewer(id: ID): Viewer
  products(postalCode: String, prepay: Boolean): [Product]
}

type Viewer {
  id: ID!
  email: String
  balance: Int
  nickname: String
}

type Product {
  code: String
  term: Int
  oldField: String
  zone: LoadZone
}

enum LoadZone {
  LZ_NORTH
  LZ_WEST
}
"""
REASON = "Use `code` instead.\\n\\nWill be removed on 2027-06-01."
NEW_SDL = (
    OLD_SDL.replace("  email: String\n", "")  # a field removed
    .replace("balance: Int", "balance: String")  # a type changed
    .replace("oldField: String", f'oldField: String @deprecated(reason: "{REASON}")')
    .replace("  LZ_WEST\n", "  LZ_WEST\n  LZ_AEN\n")  # an enum value added
    .replace("products(postalCode: String,", "products(postalCode: String!,")  # made required
)

# One file per operation: name -> (file text, its verdict against NEW).
OPERATIONS = {
    "selectsEmail": ("query selectsEmail {\n  viewer {\n    id\n    email\n  }\n}\n", "breaks"),
    "selectsBalance": ("query selectsBalance {\n  viewer {\n    balance\n  }\n}\n", "breaks"),
    "passesNullablePostalCode": (
        "query passesNullablePostalCode($postalCode: String) {\n"
        "  products(postalCode: $postalCode) {\n    code\n  }\n}\n",
        "breaks",
    ),
    "omitsPostalCode": ("query omitsPostalCode {\n  products {\n    code\n  }\n}\n", "breaks"),
    "usesOldField": (
        'query usesOldField {\n  products(postalCode: "75001") {\n    oldField\n  }\n}\n',
        "deprecated",
    ),
    "readsZone": (
        'query readsZone {\n  products(postalCode: "75001") {\n    zone\n  }\n}\n',
        "fine",
    ),
    "selectsNickname": ("query selectsNickname {\n  viewer {\n    nickname\n  }\n}\n", "fine"),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None) -> Path:
    """A user's folder, the working directory: old.graphql, new.graphql and an empty ops/."""
    (tmp_path / "old.graphql").write_text(OLD_SDL)
    (tmp_path / "new.graphql").write_text(NEW_SDL)
    (tmp_path / "ops").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_operations(project: Path, *names: str) -> None:
    for name in names:
        (project / "ops" / f"{name}.graphql").write_text(OPERATIONS[name][0])


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def diff(cli: Cli, *options: str) -> Run:
    return cli("schema", "diff", "old.graphql", "new.graphql", "--queries", "ops", *options)


def verdicts(run: Run) -> dict[str, str]:
    """The operations table of a text report: name -> verdict."""
    rows = re.findall(r"^(\w+) +(breaks|deprecated|fine) +\S+$", run.out, re.MULTILINE)
    return dict(rows)


# -- the schema changes ---------------------------------------------------------------------------


def test_each_change_is_in_its_group_naming_what_changed() -> None:
    changes = find_changes(schema_from_sdl(OLD_SDL, "old"), schema_from_sdl(NEW_SDL, "new"))

    found = {(c.group, c.type, c.coordinate) for c in changes}
    assert found == {
        ("breaking", "FIELD_REMOVED", "Viewer.email"),
        ("breaking", "FIELD_CHANGED_KIND", "Viewer.balance"),
        ("breaking", "ARG_CHANGED_KIND", "Query.products(postalCode:)"),
        ("dangerous", "VALUE_ADDED_TO_ENUM", "LoadZone.LZ_AEN"),
        ("dangerous", "FIELD_DEPRECATED", "Product.oldField"),
    }
    [deprecated] = [c for c in changes if c.type == "FIELD_DEPRECATED"]
    assert deprecated.reason == "Use `code` instead.\n\nWill be removed on 2027-06-01."
    assert deprecated.description == (
        "Field Product.oldField was deprecated: Use `code` instead. Will be removed on 2027-06-01."
    )


# Every change type graphql-core 3.2 reports, in one pair of schemas: each must be read into
# the coordinate it changed (the sentences are the only place graphql-core says which).
EVERY_OLD = """\
directive @gone on FIELD
directive @tag(name: String, old: String) repeatable on FIELD | QUERY
directive @limit on FIELD
scalar Gone
scalar Kind
type Money { amount: Float }
interface Node { id: ID }
interface Named { name: String }
union Result = A | B
type A implements Node { id: ID name: String }
type B { id: ID }
enum Zone { NORTH WEST }
input Filter { zone: Zone }
type Query {
  a(x: Int, y: Int, z: Int = 1): A
  b: B
  result: Result
  gone: Gone
  kind: Kind
  f(filter: Filter): A
  money: Money
}
"""
EVERY_NEW = """\
directive @tag(name: String, extra: String!) on FIELD
directive @limit(first: Int) on FIELD
directive @new on FIELD
type Kind { id: ID }
type Money { amount: Int }
interface Node { id: ID }
interface Named { name: String }
union Result = A | C
type A { id: ID name: Int }
type B implements Named { id: ID name: String }
type C { id: ID }
enum Zone { NORTH EAST }
input Filter { zone: Zone, postcode: String!, near: Boolean }
type Query {
  a(x: String, z: Int = 2, w: Int!, v: Int): A
  b: B
  result: Result
  kind: Kind
  f(filter: Filter): A
  money: Money
}
"""
EVERY_CHANGE = {
    ("TYPE_REMOVED", "Gone"),
    ("TYPE_REMOVED", "Float"),  # "Standard scalar Float was removed because it is not ..."
    ("TYPE_CHANGED_KIND", "Kind"),
    ("TYPE_REMOVED_FROM_UNION", "Result"),
    ("VALUE_REMOVED_FROM_ENUM", "Zone.WEST"),
    ("REQUIRED_INPUT_FIELD_ADDED", "Filter.postcode"),
    ("IMPLEMENTED_INTERFACE_REMOVED", "A"),
    ("FIELD_REMOVED", "Query.gone"),
    ("FIELD_CHANGED_KIND", "A.name"),
    ("FIELD_CHANGED_KIND", "Money.amount"),
    ("REQUIRED_ARG_ADDED", "Query.a(w:)"),
    ("ARG_REMOVED", "Query.a(y:)"),
    ("ARG_CHANGED_KIND", "Query.a(x:)"),
    ("DIRECTIVE_REMOVED", "@gone"),
    ("DIRECTIVE_ARG_REMOVED", "@tag(old:)"),
    ("REQUIRED_DIRECTIVE_ARG_ADDED", "@tag(extra:)"),
    ("DIRECTIVE_REPEATABLE_REMOVED", "@tag"),
    ("DIRECTIVE_LOCATION_REMOVED", "@tag"),
    ("VALUE_ADDED_TO_ENUM", "Zone.EAST"),
    ("TYPE_ADDED_TO_UNION", "Result"),
    ("OPTIONAL_INPUT_FIELD_ADDED", "Filter.near"),
    ("OPTIONAL_ARG_ADDED", "Query.a(v:)"),
    ("IMPLEMENTED_INTERFACE_ADDED", "B"),
    ("ARG_DEFAULT_VALUE_CHANGE", "Query.a(z:)"),
}


def test_every_graphql_core_change_type_is_read_into_the_coordinate_it_changed() -> None:
    changes = find_changes(schema_from_sdl(EVERY_OLD, "old"), schema_from_sdl(EVERY_NEW, "new"))

    core = {(c.type, c.coordinate) for c in changes if c.group != "safe"}
    assert core == EVERY_CHANGE
    kinds = {member.name for member in graphql.BreakingChangeType}
    kinds |= {member.name for member in graphql.DangerousChangeType}
    assert {kind for kind, _ in EVERY_CHANGE} == kinds  # graphql-core has no other type


def test_additions_and_lifted_deprecations_are_safe() -> None:
    old = OLD_SDL.replace("code: String", 'code: String @deprecated(reason: "old")')
    new = OLD_SDL + "\ntype Tariff {\n  name: String\n}\n"
    new = new.replace("  nickname: String\n", "  nickname: String\n  givenName: String\n")

    changes = find_changes(schema_from_sdl(old, "old"), schema_from_sdl(new, "new"))

    assert [(c.group, c.type, c.coordinate) for c in changes] == [
        ("safe", "FIELD_ADDED", "Viewer.givenName"),
        ("safe", "TYPE_ADDED", "Tariff"),
        ("safe", "DEPRECATION_REMOVED", "Product.code"),
    ]


def test_a_type_changed_safely_is_a_safe_change_naming_the_operations_using_it(
    cli: Cli, project: Path
) -> None:
    # A field made non-null, an argument and an input field made nullable: graphql-core sees
    # no breaking or dangerous change, and before, the report said "0 breaking, 0 dangerous,
    # 0 safe" (and --json had no change at all), although regenerating changes the models.
    old = (
        OLD_SDL.replace("viewer(id: ID)", "viewer(id: ID!)")
        + "input Filter {\n  zone: LoadZone!\n}\n"
    )
    new = (
        old.replace("  code: String\n", "  code: String!\n")
        .replace("viewer(id: ID!)", "viewer(id: ID)")
        .replace("zone: LoadZone!", "zone: LoadZone")
    )
    (project / "old.graphql").write_text(old)
    (project / "new.graphql").write_text(new)
    write_operations(project, "omitsPostalCode", "readsZone")

    changes = find_changes(schema_from_sdl(old, "old"), schema_from_sdl(new, "new"))
    assert [(c.group, c.type, c.coordinate) for c in changes] == [
        ("safe", "ARG_TYPE_CHANGED", "Query.viewer(id:)"),
        ("safe", "FIELD_TYPE_CHANGED", "Product.code"),
        ("safe", "INPUT_FIELD_TYPE_CHANGED", "Filter.zone"),
    ]
    assert [c.description for c in changes] == [
        "Query.viewer arg id changed type from ID! to ID.",
        "Product.code changed type from String to String!.",
        "Filter.zone changed type from LoadZone! to LoadZone.",
    ]
    run = diff(cli, "--json")
    assert run.code == 0, run.out + run.err
    safe = json.loads(run.out)["changes"]["safe"]
    assert [(c["type"], c["coordinate"], c["used_by"]) for c in safe] == [
        ("ARG_TYPE_CHANGED", "Query.viewer(id:)", []),
        ("FIELD_TYPE_CHANGED", "Product.code", ["omitsPostalCode"]),
        ("INPUT_FIELD_TYPE_CHANGED", "Filter.zone", []),
    ]
    text = diff(cli).out
    assert "0 breaking, 0 dangerous, 3 safe" in text, text


# -- verdicts and exit statuses -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "options", "code"),
    [
        (("selectsNickname", "readsZone"), (), 0),
        (("selectsNickname", "usesOldField"), (), 0),
        (("selectsNickname", "usesOldField"), ("--fail-on-deprecated",), 1),
        (("selectsNickname", "readsZone"), ("--fail-on-deprecated",), 0),
        (("selectsNickname", "selectsEmail"), (), 1),
        (("selectsBalance",), (), 1),
        (("passesNullablePostalCode",), (), 1),
        (("omitsPostalCode", "usesOldField"), ("--fail-on-deprecated",), 1),
    ],
    ids=[
        "fine",
        "deprecated",
        "deprecated-failing",
        "fine-failing-on-deprecated",
        "field-removed",
        "type-changed",
        "argument-made-required",
        "required-argument-missing",
    ],
)
def test_each_operation_gets_its_verdict_and_the_run_its_exit_status(
    cli: Cli, project: Path, names: tuple[str, ...], options: tuple[str, ...], code: int
) -> None:
    write_operations(project, *names)

    run = diff(cli, "--no-builtin", *options)

    assert (run.code, run.err) == (code, "")
    assert verdicts(run) == {name: OPERATIONS[name][1] for name in names}
    expected = "FINE" if code == 0 and "usesOldField" not in names else None
    if expected:
        assert run.out.splitlines()[-1].startswith("FINE: no operation breaks")


def test_a_break_names_the_file_line_field_and_the_change(cli: Cli, project: Path) -> None:
    write_operations(project, "selectsEmail", "selectsBalance", "passesNullablePostalCode")
    email = line_of(project / "ops" / "selectsEmail.graphql", "email")
    balance = line_of(project / "ops" / "selectsBalance.graphql", "balance")
    passed = line_of(project / "ops" / "passesNullablePostalCode.graphql", "products(")

    run = diff(cli, "--no-builtin")

    assert run.code == 1
    assert (
        f"    ops/selectsEmail.graphql:{email}: field Viewer.email: Cannot query field 'email' on"
        " type 'Viewer'. [FIELD_REMOVED: Viewer.email was removed.]\n"
    ) in run.out
    assert (
        f"    ops/selectsBalance.graphql:{balance}: field Viewer.balance: still validates, but "
        "breaks: FIELD_CHANGED_KIND: Viewer.balance changed type from Int to String.\n"
    ) in run.out
    assert (
        f"    ops/passesNullablePostalCode.graphql:{passed}: argument Query.products(postalCode:):"
        " Variable '$postalCode' of type 'String' used in position expecting type 'String!'."
        " [ARG_CHANGED_KIND: Query.products arg postalCode has changed type from String to"
        " String!.]\n"
    ) in run.out
    assert run.out.splitlines()[-1] == (
        "BREAKS: 3 operations break (passesNullablePostalCode, selectsBalance, selectsEmail)."
    )


def test_a_deprecated_element_is_listed_with_its_reason(cli: Cli, project: Path) -> None:
    write_operations(project, "usesOldField")
    line = line_of(project / "ops" / "usesOldField.graphql", "oldField")

    run = diff(cli, "--no-builtin")

    assert run.code == 0
    assert (
        f"    ops/usesOldField.graphql:{line}: field Product.oldField is deprecated: Use `code` "
        "instead. Will be removed on 2027-06-01. (newly deprecated)\n"
    ) in run.out
    assert "FIELD_DEPRECATED     Field Product.oldField was deprecated: Use `code` instead." in (
        run.out
    )
    assert run.out.splitlines()[-1] == (
        "DEPRECATED: nothing breaks, but 1 operation uses deprecated elements (usesOldField)."
    )


def test_changes_list_the_operations_using_what_changed(cli: Cli, project: Path) -> None:
    write_operations(project, *OPERATIONS)

    run = diff(cli, "--no-builtin")

    assert "VALUE_ADDED_TO_ENUM  LZ_AEN was added to enum type LoadZone.  [used by readsZone]" in (
        run.out
    )
    assert "FIELD_REMOVED        Viewer.email was removed.  [used by selectsEmail]" in run.out


def test_a_break_inside_a_fragment_is_a_break_of_each_operation_spreading_it(
    cli: Cli, project: Path
) -> None:
    (project / "ops" / "fragments.graphql").write_text("fragment Who on Viewer {\n  email\n}\n")
    (project / "ops" / "ops.graphql").write_text(
        "query one {\n  viewer {\n    ...Who\n  }\n}\n\nquery two {\n  viewer {\n    ...Who\n"
        "  }\n}\n"
    )

    run = diff(cli, "--no-builtin")

    assert verdicts(run) == {"one": "breaks", "two": "breaks"}
    assert run.out.count("    ops/fragments.graphql:2: field Viewer.email: Cannot query") == 2


def test_an_operation_invalid_against_both_schemas_breaks_and_says_so(
    cli: Cli, project: Path
) -> None:
    (project / "ops" / "typo.graphql").write_text("query typo {\n  viewer {\n    emial\n  }\n}\n")

    run = diff(cli, "--no-builtin")

    assert run.code == 1
    assert "it did not validate against the old schema either" in run.out


def test_an_input_type_that_gains_a_required_field_breaks_what_sends_it_by_variable(
    tmp_path: Path,
) -> None:
    old = "input Filter {\n  zone: String\n}\n\ntype Query {\n  find(filter: Filter): Int\n}\n"
    new = old.replace("  zone: String\n", "  zone: String\n  postcode: String!\n")
    ops = tmp_path / "find.graphql"
    ops.write_text("query find($filter: Filter) {\n  find(filter: $filter)\n}\n")

    result = diff_schemas(
        read_schema_file(write(tmp_path / "old.graphql", old)),
        read_schema_file(write(tmp_path / "new.graphql", new)),
        [read_operations(ops, "find.graphql")],
    )

    [operation] = result.operations
    [found] = operation.breaks
    assert found.validates  # nothing in the text is wrong: the generated input model is
    assert [c.type for c in found.changes] == ["REQUIRED_INPUT_FIELD_ADDED"]
    assert str(found.location) == "find.graphql:1"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


DEPRECATING_SDL = """\
enum Zone {
  NORTH
  WEST @deprecated(reason: "Split in two.")
}

input Filter {
  zone: Zone
  area: String @deprecated(reason: "Use zone.")
}

type Query {
  find(filter: Filter, limit: Int @deprecated(reason: "Pages instead."), first: Int): Int
}
"""


def test_deprecated_arguments_enum_values_and_input_fields_written_are_each_one_line(
    tmp_path: Path,
) -> None:
    ops = tmp_path / "ops"
    ops.mkdir()
    (ops / "find.graphql").write_text(
        "query written {\n"
        '  find(limit: 3, filter: {zone: WEST, area: "north"})\n'
        "}\n"
        "\n"
        "# Through a variable: what the calling code sends is not the operation's to say.\n"
        "query byVariable($filter: Filter) {\n"
        "  find(filter: $filter, first: 3)\n"
        "}\n"
    )

    lines = deprecation_lines(write(tmp_path / "schema.graphql", DEPRECATING_SDL), ops)

    assert lines == [
        f"{ops}/find.graphql:2: argument Query.find(limit:) is deprecated: Pages instead.",
        f"{ops}/find.graphql:2: enum value Zone.WEST is deprecated: Split in two.",
        f"{ops}/find.graphql:2: input field Filter.area is deprecated: Use zone.",
    ]


# -- output formats -------------------------------------------------------------------------------


def test_json_parses_and_carries_every_change_and_verdict(cli: Cli, project: Path) -> None:
    write_operations(project, *OPERATIONS)

    run = diff(cli, "--no-builtin", "--json")

    assert run.code == 1
    report = json.loads(run.out)
    assert (report["old"], report["new"], report["verdict"]) == (
        "old.graphql",
        "new.graphql",
        "breaks",
    )
    assert report["exit_status"] == 1
    assert report["summary"] == {
        "breaking": 3,
        "dangerous": 2,
        "safe": 0,
        "operations": 7,
        "breaks": 4,
        "deprecated": 1,
        "fine": 2,
    }
    [_, deprecation] = report["changes"]["dangerous"]
    assert deprecation["reason"] == "Use `code` instead.\n\nWill be removed on 2027-06-01."
    assert deprecation["used_by"] == ["usesOldField"]
    by_name = {op["name"]: op for op in report["operations"]}
    assert {name: op["verdict"] for name, op in by_name.items()} == {
        name: verdict for name, (_, verdict) in OPERATIONS.items()
    }
    [email] = by_name["selectsEmail"]["breaks"]
    assert email["file"] == "ops/selectsEmail.graphql"
    assert (email["line"], email["column"]) == (4, 5)
    assert (email["kind"], email["element"]) == ("field", "Viewer.email")
    assert email["changes"] == [
        {"type": "FIELD_REMOVED", "description": "Viewer.email was removed."}
    ]
    [old_field] = by_name["usesOldField"]["deprecated"]
    assert old_field["element"] == "Product.oldField"
    assert old_field["newly_deprecated"] is True


def test_json_exit_status_follows_fail_on_deprecated(cli: Cli, project: Path) -> None:
    write_operations(project, "usesOldField")

    run = diff(cli, "--no-builtin", "--json", "--fail-on-deprecated")

    assert run.code == 1
    assert json.loads(run.out)["exit_status"] == 1


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Each Markdown table in `text` as rows of cells, checking its layout: a header row, a
    separator row of dashes, then rows with as many cells."""
    tables: list[list[list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("|"):
            i += 1
            continue
        block = []
        while i < len(lines) and lines[i].startswith("|"):
            block.append(lines[i])
            i += 1
        rows = [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in block]
        assert all(re.fullmatch(r":?-{3,}:?", cell) for cell in rows[1]), block
        assert {len(row) for row in rows} == {len(rows[0])}, block
        tables.append([rows[0], *rows[2:]])
    return tables


def test_markdown_renders_the_breaks_and_changes_as_tables(cli: Cli, project: Path) -> None:
    write_operations(project, *OPERATIONS)

    run = diff(cli, "--no-builtin", "--markdown")

    assert run.code == 1
    assert run.out.startswith("### Schema diff: `old.graphql` → `new.graphql`\n")
    operations, changes = markdown_tables(run.out)
    assert operations[0] == ["Operation", "Verdict", "Where", "What"]
    rows = {(row[0], row[1], row[2]) for row in operations[1:]}
    assert ("`selectsEmail`", "**breaks**", "`ops/selectsEmail.graphql:4`") in rows
    assert ("`usesOldField`", "deprecated", "`ops/usesOldField.graphql:3`") in rows
    assert changes[0] == ["Group", "Change", "Description", "Used by"]
    assert ["breaking", "`FIELD_REMOVED`", "Viewer.email was removed.", "`selectsEmail`"] in (
        changes
    )
    assert ("`readsZone`", "fine", "`ops/readsZone.graphql:1`") in rows


def test_a_pipe_in_a_reason_does_not_break_the_markdown_table(cli: Cli, project: Path) -> None:
    (project / "new.graphql").write_text(NEW_SDL.replace("Use `code` instead.", "Use a | b."))
    write_operations(project, "usesOldField")

    run = diff(cli, "--no-builtin", "--markdown")

    [operations, _changes] = markdown_tables(run.out)
    assert "Use a \\| b." in operations[1][3]


def test_a_reason_holding_escape_codes_is_shown_spelt_out_never_sent_to_the_terminal(
    cli: Cli, project: Path
) -> None:
    # NEW may be an endpoint: its deprecation reasons are a server's text. Before, an escape
    # code in one reached the terminal as it was (colours, a cleared screen, a bell).
    reason = "Use `code` instead.\\u001b[2J\\u0007"
    (project / "new.graphql").write_text(NEW_SDL.replace("Use `code` instead.", reason))
    write_operations(project, "usesOldField")

    for options in ((), ("--markdown",)):
        run = diff(cli, "--no-builtin", *options)
        assert "\x1b" not in run.out
        assert "\x07" not in run.out
        assert "Use `code` instead.\\x1b[2J\\x07" in run.out, run.out
    [line] = deprecation_lines(project / "new.graphql", project / "ops")
    assert line.endswith(
        "is deprecated: Use `code` instead.\\x1b[2J\\x07 Will be removed on 2027-06-01."
    )


def test_a_deprecation_with_an_empty_reason_says_no_reason_was_given(
    cli: Cli, project: Path
) -> None:
    # Before: "field Product.oldField is deprecated: " and nothing after it.
    reason = f'@deprecated(reason: "{REASON}")'
    (project / "new.graphql").write_text(NEW_SDL.replace(reason, '@deprecated(reason: "")'))
    write_operations(project, "usesOldField")

    run = diff(cli, "--no-builtin")

    assert "field Product.oldField is deprecated: (no reason given)" in run.out, run.out
    assert "Field Product.oldField was deprecated: (no reason given)" in run.out, run.out


# -- the package's own operations -----------------------------------------------------------------


@pytest.mark.slow  # the full schema against itself
def test_our_own_operations_do_not_break_against_schema_graphql_and_use_nothing_deprecated(
    shipped_schema: LoadedSchema,
) -> None:
    ours = read_operations(ROOT / "queries", "queries")

    result = diff_schemas(shipped_schema, shipped_schema, [ours])

    assert result.changes == ()
    assert len(result.operations) >= 27
    assert {op.verdict for op in result.operations} == {"fine"}
    # The README says so ("When the schema changes"): keep it true, or say which and why there.
    assert [use for op in result.operations for use in op.deprecated] == []
    assert deprecation_lines(ROOT / "schema.graphql", ROOT / "queries") == []


@pytest.mark.slow
def test_a_deprecated_field_of_schema_graphql_is_found_when_an_operation_selects_it(
    shipped_schema: LoadedSchema, tmp_path: Path
) -> None:
    operation = write(
        tmp_path / "names.graphql", "query names {\n  viewer {\n    firstName\n  }\n}\n"
    )

    result = diff_schemas(None, shipped_schema, [read_operations(operation, "names.graphql")])

    [use] = result.operations[0].deprecated
    assert use.line().startswith(
        "names.graphql:3: field AccountUserType.firstName is deprecated: The 'firstName' field is"
        " deprecated. Use 'givenName' instead."
    )


@pytest.mark.slow  # builds the full schema twice
def test_the_package_own_operations_are_checked_against_a_schema_written_for_them(
    cli: Cli, project: Path, shipped_schema: LoadedSchema
) -> None:
    assert shipped_schema.sdl is not None
    (project / "old.graphql").write_text(shipped_schema.sdl)
    removed = "  tdspByPostalcode(postalCode: String!): [TdspType] # guessed return type\n"
    (project / "new.graphql").write_text(shipped_schema.sdl.replace(removed, ""))
    write_operations(project, "selectsNickname")

    run = diff(cli, "--json")

    assert run.code == 1
    report = json.loads(run.out)
    by_name = {op["name"]: op for op in report["operations"]}
    [tdsp] = by_name["getTdspByPostalCode"]["breaks"]
    line = line_of(ROOT / "queries" / "products.graphql", "tdspByPostalcode(")
    assert (tdsp["file"], tdsp["line"]) == (str(ROOT / "queries" / "products.graphql"), line)
    assert by_name["getViewer"]["verdict"] == "fine"
    assert report["skipped"] == []


@pytest.mark.slow  # every one of our operations validated against both schemas
def test_the_package_own_operations_are_skipped_against_a_schema_not_written_for_them(
    cli: Cli, project: Path
) -> None:
    write_operations(project, "selectsNickname")

    run = diff(cli)

    assert (run.code, run.err) == (0, "")
    assert verdicts(run) == {"selectsNickname": "fine"}
    assert re.search(r"Skipped \d+ operations of oeus-kraken's own, which do not validate", run.out)


# -- failures: one line, a distinct status --------------------------------------------------------


def assert_one_line(run: Run, code: int, *fragments: str) -> None:
    assert run.code == code, run
    assert run.out == ""
    [line] = run.err.splitlines()
    assert line.startswith("oeus-kraken schema diff: "), line
    assert "Traceback" not in run.err
    for fragment in fragments:
        assert fragment in line


@pytest.mark.parametrize(
    ("arrange", "expected"),
    [
        (lambda p: (p / "new.graphql").unlink(), "cannot read schema new.graphql"),
        (lambda p: (p / "new.graphql").write_text("type Query {"), "new.graphql is not a valid"),
        (lambda p: shutil.rmtree(p / "ops"), "ops: no such operation folder or file"),
        (
            lambda p: (p / "ops" / "selectsNickname.graphql").unlink(),
            "ops: no .graphql operation files there",
        ),
        (
            lambda p: (p / "ops" / "bad.graphql").write_text("query bad {\n  viewer {\n"),
            "ops/bad.graphql:3:1: Syntax Error",
        ),
    ],
    ids=["missing-schema", "invalid-schema", "missing-folder", "empty-folder", "bad-operation"],
)
def test_bad_input_is_one_line_and_exit_2(
    cli: Cli, project: Path, arrange: Callable[[Path], object], expected: str
) -> None:
    write_operations(project, "selectsNickname")
    arrange(project)

    run = diff(cli, "--no-builtin")

    assert_one_line(run, 2, expected)


@pytest.mark.parametrize(
    "arguments",
    [
        ("schema", "diff", "old.graphql"),
        ("schema", "diff", "old.graphql", "new.graphql", "--json", "--markdown"),
        ("schema", "diff", "old.graphql", ""),
        ("schema",),
    ],
    ids=["one-schema", "two-formats", "empty-new", "no-verb"],
)
def test_bad_arguments_exit_2(cli: Cli, project: Path, arguments: tuple[str, ...]) -> None:
    run = cli(*arguments)

    assert run.code == 2
    [line] = run.err.splitlines()
    assert line.startswith("oeus-kraken schema")


class FullDisk(io.StringIO):
    """An output every write to fails, as on a full disk (`> /dev/full`)."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_report_that_cannot_be_written_is_exit_2_never_the_verdict_1(
    project: Path, clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: exit 1, which here means "an operation breaks": the README's CI job, its report
    # written to a full disk, opened an issue saying the operations break, for no change.
    write_operations(project, "selectsNickname")
    argv = ["schema", "diff", "old.graphql", "old.graphql", "--queries", "ops", "--no-builtin"]
    for options in ((), ("--json",), ("--markdown",)):
        code = main([*argv, *options], out=FullDisk())
        line = "oeus-kraken schema diff: cannot write the output: No space left on device"
        assert (code, capsys.readouterr().err.splitlines()) == (2, [line])


def test_operations_in_gql_and_graphqls_files_get_their_verdict(cli: Cli, project: Path) -> None:
    # codegen (ariadne-codegen) generates from them; before, schema diff left them out, and
    # said FINE for a folder whose generated client breaks.
    for name, suffix in (("selectsEmail", ".gql"), ("selectsBalance", ".graphqls")):
        (project / "ops" / f"{name}{suffix}").write_text(OPERATIONS[name][0])
    write_operations(project, "selectsNickname")

    run = diff(cli, "--no-builtin")

    assert run.code == 1, run.out + run.err
    assert verdicts(run) == {
        "selectsBalance": "breaks",
        "selectsEmail": "breaks",
        "selectsNickname": "fine",
    }


def test_no_operations_at_all_is_a_usage_error(cli: Cli, project: Path) -> None:
    run = cli("schema", "diff", "old.graphql", "new.graphql", "--no-builtin")

    assert_one_line(run, 2, "no operations to check")


@pytest.mark.slow
def test_an_unreachable_endpoint_is_exit_4_and_its_password_is_never_shown(
    cli: Cli, project: Path
) -> None:
    write_operations(project, "selectsNickname")

    run = cli(
        "schema",
        "diff",
        "old.graphql",
        "http://user:s3cret-pw@127.0.0.1:9/v1/graphql/",
        "--queries",
        "ops",
        "--no-builtin",
    )

    assert_one_line(run, 4, "could not reach", "127.0.0.1:9")
    assert "s3cret-pw" not in run.err


@pytest.mark.parametrize("url", ["https://user:s3cret-pw@[::1/v1/graphql/", "HTTP://[::1"])
def test_an_endpoint_url_with_a_malformed_host_is_one_line_and_exit_2_and_no_password(
    cli: Cli, project: Path, url: str
) -> None:
    # Before: urllib's "Invalid IPv6 URL" ValueError as a traceback, exit 1 ("it breaks").
    write_operations(project, "selectsNickname")

    run = cli("schema", "diff", "old.graphql", url, "--queries", "ops", "--no-builtin")

    assert_one_line(run, 2, "is not an http(s) URL with a host")
    assert "s3cret-pw" not in run.err


INTROSPECTED_URL = "https://kraken.test/v1/graphql/"


def introspection(sdl: str) -> dict[str, object]:
    schema = graphql.build_schema(sdl)
    query = graphql.get_introspection_query(descriptions=True, input_value_deprecation=True)
    result = graphql.graphql_sync(schema, query)
    assert result.errors is None
    return {"data": result.data}


def test_an_endpoint_is_introspected_as_new_and_gives_the_verdict_of_the_file(
    cli: Cli, project: Path, httpx_mock: object
) -> None:
    httpx_mock.add_response(url=INTROSPECTED_URL, json=introspection(NEW_SDL))  # type: ignore[attr-defined]
    write_operations(project, *OPERATIONS)

    from_file = json.loads(diff(cli, "--no-builtin", "--json").out)
    run = cli(
        "schema", "diff", "old.graphql", INTROSPECTED_URL, "--queries", "ops", "--no-builtin",
        "--json",
    )  # fmt: skip

    assert run.code == 1
    from_endpoint = json.loads(run.out)
    assert from_endpoint["new"] == INTROSPECTED_URL
    for report in (from_file, from_endpoint):
        del report["new"]
    assert from_endpoint == from_file
    [request] = httpx_mock.get_requests()  # type: ignore[attr-defined]
    assert "Authorization" not in request.headers  # no credentials: asked as anyone may
    assert "includeDeprecated: true" in json.loads(request.content)["query"]


@pytest.mark.parametrize(
    "document",
    [introspection, lambda sdl: introspection(sdl)["data"]],
    ids=["an answer, with data", "its data alone"],
)
def test_an_introspection_result_saved_as_json_is_a_schema_file_like_its_sdl(
    cli: Cli, project: Path, document: Callable[[str], object]
) -> None:
    # What an endpoint answers, saved (`{"data": {"__schema": ...}}`, or the `data` part as
    # many tools save it), is the same schema as its SDL: the same report.
    (project / "new.json").write_text(json.dumps(document(NEW_SDL)))
    write_operations(project, *OPERATIONS)

    from_sdl = json.loads(diff(cli, "--no-builtin", "--json").out)
    run = cli(
        "schema", "diff", "old.graphql", "new.json", "--queries", "ops", "--no-builtin", "--json"
    )

    assert (run.code, run.err) == (1, "")
    from_json = json.loads(run.out)
    assert from_json.pop("new") == "new.json"
    del from_sdl["new"]
    assert from_json == from_sdl


def test_an_introspection_result_saved_with_a_byte_order_mark_is_read_as_json(
    cli: Cli, project: Path
) -> None:
    # Windows PowerShell's `Out-File -Encoding utf8` starts the file with a BOM. Before: "is not
    # a valid GraphQL schema: Syntax Error: Expected Name, found String 'data'", exit 2.
    answer = {"data": graphql.introspection_from_schema(graphql.build_schema(NEW_SDL))}
    (project / "new.json").write_text(json.dumps(answer), encoding="utf-8-sig")
    write_operations(project, "selectsEmail", "selectsNickname")

    run = cli("schema", "diff", "old.graphql", "new.json", "--queries", "ops", "--no-builtin")

    assert run.code == 1, run.out + run.err
    assert verdicts(run) == {"selectsEmail": "breaks", "selectsNickname": "fine"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            '{"data": {"viewer": null}}',
            "new.json is not a valid GraphQL schema: JSON, but no introspection result",
        ),
        ('{"data": {"__schema": ', "new.json is not a valid GraphQL schema: not JSON ("),
        ("[1, 2]", "new.json is not a valid GraphQL schema: "),
        # Before: a RecursionError traceback, and exit 1 ("an operation breaks").
        (
            '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "new.json is not a valid GraphQL schema: JSON nested too deeply to read",
        ),
    ],
    ids=["JSON, no schema", "JSON cut short", "a JSON list", "JSON nested 100,000 deep"],
)
def test_a_json_file_that_is_no_introspection_result_is_one_line_and_exit_2(
    cli: Cli, project: Path, text: str, says: str
) -> None:
    (project / "new.json").write_text(text)
    write_operations(project, "selectsNickname")

    run = cli("schema", "diff", "old.graphql", "new.json", "--queries", "ops", "--no-builtin")

    assert_one_line(run, 2, says)


@pytest.mark.parametrize("where", ["a field", "an argument"])
def test_an_introspection_result_with_a_type_wrapped_hundreds_deep_is_one_line_and_exit_2(
    cli: Cli, project: Path, where: str
) -> None:
    # SDL's parser refuses [[[...]]] deeper than 200; JSON has no such limit. Before: the schema
    # built, then graphql-core spelling the changed type out ended in a RecursionError
    # traceback, exit 1 ("an operation breaks"); codegen and the sandbox did the same.
    data = graphql.introspection_from_schema(graphql.build_schema(OLD_SDL))
    wrapped: dict[str, object] = {"kind": "SCALAR", "name": "String", "ofType": None}
    for _ in range(400):
        wrapped = {"kind": "LIST", "name": None, "ofType": wrapped}
    [viewer] = [kind for kind in data["__schema"]["types"] if kind["name"] == "Viewer"]
    [email] = [field for field in viewer["fields"] if field["name"] == "email"]
    if where == "a field":
        email["type"] = wrapped
    else:
        email["args"] = [{"name": "x", "description": None, "type": wrapped,
                          "defaultValue": None, "isDeprecated": False,
                          "deprecationReason": None}]  # fmt: skip
    (project / "new.json").write_text(json.dumps({"data": data}))
    write_operations(project, "selectsNickname")

    run = cli("schema", "diff", "old.graphql", "new.json", "--queries", "ops", "--no-builtin")

    assert_one_line(run, 2, "new.json is not a valid GraphQL schema", "more than 200 deep")


def test_paths_starting_with_a_tilde_are_in_the_home_folder(
    cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a shell expands them, and as --db and --out do: quoted, or from a script's variable.
    monkeypatch.setenv("HOME", str(project))
    monkeypatch.chdir(project / "ops")
    write_operations(project, "selectsNickname")

    run = cli("schema", "diff", "~/old.graphql", "~/new.graphql", "--queries", "~/ops",
              "--no-builtin")  # fmt: skip

    assert (run.code, run.err) == (0, "")
    assert verdicts(run) == {"selectsNickname": "fine"}


def test_a_server_that_refuses_deprecated_arguments_in_introspection_is_asked_without(
    cli: Cli, project: Path, httpx_mock: object
) -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        query = json.loads(request.content)["query"]
        asked.append(query)
        if "args(includeDeprecated: true)" in query:
            error = "Unknown argument 'includeDeprecated' on field '__Field.args'."
            return httpx.Response(200, json={"errors": [{"message": error}]})
        result = graphql.graphql_sync(graphql.build_schema(NEW_SDL), query)
        return httpx.Response(200, json={"data": result.data})

    httpx_mock.add_callback(answer, url=INTROSPECTED_URL, is_reusable=True)  # type: ignore[attr-defined]
    write_operations(project, "selectsNickname", "usesOldField")

    run = cli("schema", "diff", "old.graphql", INTROSPECTED_URL, "--queries", "ops", "--no-builtin")

    assert (run.code, run.err) == (0, "")
    assert len(asked) == 2
    assert verdicts(run) == {"selectsNickname": "fine", "usesOldField": "deprecated"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answer", "code", "expected"),
    [
        ({"json": {"data": {"viewer": None}}}, 4, "gave no usable introspection result"),
        (
            {"json": {"errors": [{"message": "Introspection is disabled"}]}},
            4,
            "refused the introspection query: Introspection is disabled",
        ),
        ({"status_code": 502, "html": "<h1>Bad gateway</h1>"}, 4, "no usable introspection"),
        ({"html": "<h1>Welcome</h1>"}, 4, "no usable introspection result"),
    ],
    ids=["not-a-schema", "graphql-errors", "bad-gateway", "html-page"],
)
def test_an_endpoint_without_a_usable_schema_is_exit_4_never_1(
    cli: Cli, project: Path, httpx_mock: object, answer: dict[str, object], code: int, expected: str
) -> None:
    httpx_mock.add_response(url=INTROSPECTED_URL, is_reusable=True, **answer)  # type: ignore[attr-defined]
    write_operations(project, "selectsNickname")

    run = cli("schema", "diff", "old.graphql", INTROSPECTED_URL, "--queries", "ops", "--no-builtin")

    assert_one_line(run, code, INTROSPECTED_URL, expected)


def _schema_diff_after(setup: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """`oeus-kraken schema diff old.graphql new.graphql` in a fresh interpreter in `folder`,
    after `setup` (code that makes graphql-core missing, or another version)."""
    code = (
        f"import sys\n{setup}\nfrom oeus_kraken.cli import main\n"
        "sys.exit(main(['schema', 'diff', 'old.graphql', 'new.graphql']))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_graphql_core_it_names_the_extra_to_install(tmp_path: Path) -> None:
    setup = "sys.modules['graphql'] = None  # as if graphql-core were not installed"
    result = _schema_diff_after(setup, tmp_path)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "oeus-kraken schema diff: oeus_kraken.schema needs graphql-core, which comes with the "
        "codegen extra: pip install 'oeus-kraken[codegen]'\n"
    )


def test_schema_diff_under_another_graphql_core_series_says_which_to_install(
    tmp_path: Path,
) -> None:
    # graphql-core 3.3 words its breaking changes otherwise: read with 3.2's patterns, an
    # operation sending an input type that gained a required field was "fine", exit 0.
    setup = (
        "import graphql\n"
        "graphql.version = '3.3.2'\n"
        "graphql.version_info = type(graphql.version_info)(3, 3, 2, 'final', 0)"
    )
    result = _schema_diff_after(setup, tmp_path)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "oeus-kraken schema diff: oeus_kraken.schema reads graphql-core 3.2's change reports, and"
        " 3.3.2 is installed: pip install 'oeus-kraken[codegen]' (it pins graphql-core 3.2)\n"
    )


def test_help_documents_the_four_exit_statuses(cli: Cli, clean_env: None) -> None:
    run = cli("schema", "diff", "--help")

    assert run.code == 0
    flat = " ".join(run.out.split())
    for text in (
        "0 nothing the operations use breaks",
        "1 an operation breaks; with --fail-on-deprecated, also when one uses a deprecated element",
        "2 bad arguments",
        "--queries DIR",
        "--no-builtin",
        "--markdown",
        "pip install 'oeus-kraken[codegen]'",
    ):
        assert text in flat, text
    top = cli("--help")
    assert re.search(r"^\s+schema\s+\w", top.out, re.MULTILINE)


# -- sandbox --schema: the file it is given -------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"], ids=["JSON", "JSON with a BOM"])
def test_sandbox_serves_an_introspection_result_saved_as_json_as_it_serves_its_sdl(
    project: Path, encoding: str
) -> None:
    # `schema diff`, `codegen --schema` and `make schema-check` take an endpoint's answer saved
    # as JSON; before, `sandbox --schema tomorrow.json` said "is not a valid GraphQL schema:
    # Syntax Error: Expected Name, found String 'data'", exit 2.
    from oeus_kraken.sandbox import executable_schema

    (project / "tomorrow.json").write_text(json.dumps(introspection(NEW_SDL)), encoding=encoding)

    served = executable_schema(project / "tomorrow.json")

    assert graphql.print_schema(served) == graphql.print_schema(
        executable_schema(project / "new.graphql")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "cannot read schema"),
        ("type Query {", "is not a valid GraphQL schema: Syntax Error: Expected Name"),
        ("type Query {\n  a: Nope\n}\n", "is not a valid GraphQL schema: Unknown type 'Nope'"),
    ],
    ids=["missing", "unfinished", "unknown-type"],
)
def test_sandbox_refuses_a_schema_file_that_is_no_schema_in_one_line(
    cli: Cli, project: Path, text: str | None, expected: str
) -> None:
    if text is not None:
        (project / "tomorrow.graphql").write_text(text)

    run = cli("sandbox", "--port", "0", "--schema", "tomorrow.graphql")

    assert run.code == 2
    [line] = run.err.splitlines()
    assert line.startswith("oeus-kraken sandbox: ")
    assert "tomorrow.graphql" in line
    assert expected in line


@pytest.mark.slow
def test_sandbox_refuses_a_schema_file_with_no_end_in_one_line(tmp_path: Path) -> None:
    # /dev/zero (or a pipe that never ends): the whole file was read into memory, a MemoryError
    # traceback, exit 1 (with no limit, the machine's memory).
    command = f"{shlex.quote(sys.executable)} -m oeus_kraken sandbox --port 0 --schema /dev/zero"
    result = subprocess.run(
        # Memory limited (1.5 GB): a runaway read fails fast, not the machine.
        ["sh", "-c", f"ulimit -v 1500000 && exec {command}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = result.stderr.splitlines()
    assert line.startswith("oeus-kraken sandbox: /dev/zero is larger than 64 MiB"), line


def test_sandbox_serves_a_schema_given_as_a_pipe(tmp_path: Path) -> None:
    # `--schema <(curl ...)`: /dev/fd/N, whose resolve() is /proc/PID/fd/pipe:[N], no path at
    # all: "cannot read schema /proc/.../fd/pipe:[...]: No such file or directory", exit 2.
    from oeus_kraken.sandbox import executable_schema

    reader, writer = os.pipe()
    try:
        with os.fdopen(writer, "w") as sdl:
            sdl.write(NEW_SDL)
        served = executable_schema(Path(f"/dev/fd/{reader}"))
    finally:
        os.close(reader)
    assert graphql.print_schema(served) == graphql.print_schema(graphql.build_schema(NEW_SDL))
