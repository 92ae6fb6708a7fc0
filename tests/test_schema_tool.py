"""tools/schema_tool.py: `make schema` (fetch) and `make schema-check SCHEMA=...` (check).

The schema-change tests edit a copy of the real schema.graphql and compare it with the original
against the real queries/, so they break if an edit no longer applies or our operations move.
Building the full schema takes seconds, so each schema is built once per module (the real one
once per session: the `shipped_schema` fixture); tests that need more than that are `slow`.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import graphql
import httpx
import pytest
from hostile_server import HostileServer, at_once, trickle

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "schema_tool.py"
SCHEMA = ROOT / "schema.graphql"
QUERIES = ROOT / "queries"


def _import_tool():
    spec = importlib.util.spec_from_file_location("schema_tool", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


schema_tool = _import_tool()
pytestmark = pytest.mark.usefixtures("schemas_built_once")


def edit(sdl: str, *replacements: tuple[str, str]) -> str:
    """`sdl` with each (old, new) applied; each `old` must occur exactly once."""
    for old, new in replacements:
        assert sdl.count(old) == 1, f"the edit no longer applies: {old!r}"
        sdl = sdl.replace(old, new)
    return sdl


# Lines of schema.graphql the edits below change.
TDSP_FIELD = "  tdspByPostalcode(postalCode: String!): [TdspType] # guessed return type\n"
DAILY_READINGS_FIELD = (
    "  dailyReadings(input: DailyReadingInput!): [DailyReadingType] # guessed: list\n"
)
# A Query field none of our operations use.
UNUSED_FIELD = "  activeDomesticSignupRewardScheme: ReferralSchemeType\n"
REFRESH_EXPIRES_IN = (
    "# A Unix timestamp representing the point in time at which the refresh token will expire.\n"
    "  refreshExpiresIn: Int\n"
)
LAST_LOAD_ZONE = "  LZ_WEST\n}"

# Removes a root field getTdspByPostalCode selects, and renames a field selected in the
# KrakenToken fragment that getKrakenToken and refreshKrakenToken both spread.
BREAKS_VALIDATION = (
    (TDSP_FIELD, ""),
    (REFRESH_EXPIRES_IN, REFRESH_EXPIRES_IN.replace("refreshExpiresIn", "refreshExpiresAt")),
)
# Adds a type and a root field returning it, adds a value to an enum we receive (dangerous),
# and removes a root field none of our operations use (breaking, but not for us).
HARMLESS_TO_US = (
    (
        TDSP_FIELD,
        TDSP_FIELD + "  tdspHolidays(year: Int!): [TdspHolidayType]\n",
    ),
    (LAST_LOAD_ZONE, "  LZ_WEST\n  LZ_AEN\n}\n\ntype TdspHolidayType {\n  date: Date\n}"),
    (UNUSED_FIELD, ""),
)


def build(sdl: str) -> graphql.GraphQLSchema:
    # The edits are known-valid SDL: skipping SDL validation halves the build time. The real
    # schema.graphql goes through the tool's own fully validating loader (`current`).
    return graphql.build_schema(sdl, assume_valid_sdl=True)


@pytest.fixture(scope="module")
def current_sdl(shipped_schema) -> str:
    return shipped_schema.sdl


@pytest.fixture(scope="module")
def current(shipped_schema):
    # Built by the same engine the tool's load_schema uses (oeus_kraken.schema), once a session.
    return shipped_schema.schema


@pytest.fixture(scope="module")
def breaks_validation(current_sdl):
    return build(edit(current_sdl, *BREAKS_VALIDATION))


@pytest.fixture(scope="module")
def harmless_to_us(current_sdl):
    return build(edit(current_sdl, *HARMLESS_TO_US))


def line_of(path, text):
    """The 1-based number of the line of `path` containing `text`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def change(changes, description):
    """The change with `description` (so a failure shows every change there is)."""
    found = [c for c in changes if c.description == description]
    assert found, f"{description!r} not in {[c.description for c in changes]}"
    return found[0]


# --- Our operations and the committed schema --------------------------------------------------


@pytest.mark.parametrize(
    "operation_file", sorted(QUERIES.rglob("*.graphql")), ids=lambda path: path.name
)
def test_every_operation_file_validates_against_schema_graphql(current, operation_file):
    # One document per file: fragments are shared within a file only.
    document = graphql.parse(operation_file.read_text(encoding="utf-8"))

    errors = graphql.validate(current, document)

    assert [error.message for error in errors] == []


@pytest.mark.slow
def test_comparing_the_schema_with_itself_reports_nothing_changed_for_us(current):
    report = schema_tool.compare(current, current, QUERIES)

    assert report.diff.changes == ()
    assert {op.verdict for op in report.diff.operations} == {"fine"}
    assert report.broken_operations == ()
    assert report.exit_code == 0
    text = report.render()
    assert "Schema changes: 0 breaking, 0 dangerous, 0 safe" in text
    assert text.splitlines()[-1] == "FINE: no operation breaks or uses a deprecated element."


# A small schema and operation, for testing the commands quickly.
SMALL_SDL = """\
type Query {
  viewer(id: ID, locale: String): Viewer
}

type Viewer {
  id: ID!
  email: String
}
"""
SMALL_OPERATION = """\
query getViewer($id: ID!) {
  viewer(id: $id) {
    id
    email
  }
}
"""


@pytest.fixture
def workspace(tmp_path):
    """A small schema.graphql and a queries/ folder with one operation that validates on it."""
    schema = tmp_path / "schema.graphql"
    schema.write_text(SMALL_SDL, encoding="utf-8")
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "viewer.graphql").write_text(SMALL_OPERATION, encoding="utf-8")
    return schema, queries


# --- check: what a candidate schema does to our operations ------------------------------------


@pytest.mark.slow
def test_check_names_operations_that_no_longer_validate_and_exits_1(current, breaks_validation):
    report = schema_tool.compare(current, breaks_validation, QUERIES)

    removed = change(report.diff.group("breaking"), "Query.tdspByPostalcode was removed.")
    assert removed.type == "FIELD_REMOVED"
    assert removed.used_by == ("getTdspByPostalCode",)
    renamed = change(
        report.diff.group("breaking"), "ObtainKrakenJSONWebToken.refreshExpiresIn was removed."
    )
    assert renamed.used_by == ("getKrakenToken", "refreshKrakenToken")
    broken = {op.name: [str(b.location) for b in op.breaks] for op in report.diff.operations}
    tdsp_line = line_of(QUERIES / "products.graphql", "tdspByPostalcode(")
    # The error is in the KrakenToken fragment: both operations spreading it break there.
    token_line = line_of(QUERIES / "auth.graphql", "refreshExpiresIn")
    assert {name: where for name, where in broken.items() if where} == {
        "getTdspByPostalCode": [f"queries/products.graphql:{tdsp_line}"],
        "getKrakenToken": [f"queries/auth.graphql:{token_line}"],
        "refreshKrakenToken": [f"queries/auth.graphql:{token_line}"],
    }
    assert report.exit_code == 1
    text = report.render()
    assert "FIELD_REMOVED  Query.tdspByPostalcode was removed.  [used by getTdspByPostalCode]" in (
        text
    )
    assert (
        f"queries/products.graphql:{tdsp_line}: field Query.tdspByPostalcode: Cannot query field"
        " 'tdspByPostalcode' on type 'Query'. [FIELD_REMOVED: Query.tdspByPostalcode was removed.]"
    ) in text
    assert text.splitlines()[-1] == (
        "BREAKS: 3 operations break (getKrakenToken, refreshKrakenToken, getTdspByPostalCode)."
    )


@pytest.mark.slow
def test_check_reports_changes_that_do_not_touch_our_operations_and_exits_0(
    current, harmless_to_us
):
    report = schema_tool.compare(current, harmless_to_us, QUERIES)

    assert report.broken_operations == ()
    assert [(c.type, c.coordinate) for c in report.diff.group("safe")] == [
        ("FIELD_ADDED", "Query.tdspHolidays"),
        ("TYPE_ADDED", "TdspHolidayType"),
    ]
    new_value = change(report.diff.group("dangerous"), "LZ_AEN was added to enum type LoadZone.")
    assert new_value.type == "VALUE_ADDED_TO_ENUM"
    # Every operation that receives a LoadZone.
    assert new_value.used_by == (
        "createCustomerQuote",
        "createQuote",
        "getEflRatesForEsiId",
        "getProductRatesForEsiId",
        "getProductsWithRates",
        "getRatesForEsiId",
        "getRatesForLoadZone",
        "getRatesForServiceProvider",
        "getRatesForUsage",
        "getTdspByPostalCode",
        "lookupAddressByEsiId",
        "lookupAddressByStreetAddress",
    )
    unused = change(
        report.diff.group("breaking"), "Query.activeDomesticSignupRewardScheme was removed."
    )
    assert unused.used_by == ()
    assert report.exit_code == 0
    text = report.render()
    assert "Schema changes: 1 breaking, 1 dangerous, 2 safe" in text
    assert "VALUE_ADDED_TO_ENUM  LZ_AEN was added to enum type LoadZone.  [used by" in text
    assert "FIELD_REMOVED        Query.activeDomesticSignupRewardScheme was removed.\n" in text
    assert text.splitlines()[-1] == "FINE: no operation breaks or uses a deprecated element."


@pytest.mark.slow  # building the full schema and an edited copy
def test_check_command_on_the_real_schema_exits_1_naming_what_breaks(
    tmp_path, current_sdl, monkeypatch, capsys
):
    candidate = tmp_path / "candidate.graphql"
    candidate.write_text(edit(current_sdl, *BREAKS_VALIDATION), encoding="utf-8")
    # From outside the repository: --schema and --queries default to the repository's. (In this
    # process: the tool as a process, its exit status and stderr, is tested below.)
    monkeypatch.chdir(tmp_path)

    code = schema_tool.main(["check", str(candidate)])

    out, err = capsys.readouterr()
    assert (code, err) == (1, "")
    assert out.startswith(f"Comparing schema.graphql with {candidate}.")
    assert "FIELD_REMOVED  Query.tdspByPostalcode was removed." in out
    for name in ("getTdspByPostalCode", "getKrakenToken", "refreshKrakenToken"):
        assert re.search(rf"^{name} +breaks +queries/", out, re.MULTILINE), name
    assert "Dry run: `make schema` would leave schema.graphql as it is: it breaks 3 of our" in out


@pytest.mark.parametrize(
    ("replacement", "exit_code", "expected"),
    [
        (
            ("  email: String\n", "  email: String\n  givenName: String\n"),
            0,
            ["FIELD_ADDED  Viewer.givenName was added.", "FINE: no operation breaks"],
        ),
        # Still validates, but our generated model says str and the server would send an int.
        (
            ("  email: String\n", "  email: Int\n"),
            1,
            [
                "FIELD_CHANGED_KIND  Viewer.email changed type from String to Int."
                "  [used by getViewer]",
                "viewer.graphql:4: field Viewer.email: still validates, but breaks:",
                "BREAKS: 1 operation breaks (getViewer).",
            ],
        ),
        (
            ("  email: String\n", ""),
            1,
            [
                "FIELD_REMOVED  Viewer.email was removed.  [used by getViewer]",
                "viewer.graphql:4: field Viewer.email: Cannot query field 'email' on type "
                "'Viewer'. [FIELD_REMOVED: Viewer.email was removed.]",
                "BREAKS: 1 operation breaks (getViewer).",
            ],
        ),
        # Breaking for whoever passes `locale`; we do not.
        (
            ("locale: String", "locale: Int"),
            0,
            [
                "ARG_CHANGED_KIND  Query.viewer arg locale has changed type from String to Int.\n",
                "FINE: no operation breaks",
            ],
        ),
        (
            ("id: ID,", "id: Int,"),
            1,
            [
                "ARG_CHANGED_KIND  Query.viewer arg id has changed type from ID to Int."
                "  [used by getViewer]",
                "viewer.graphql:2: argument Query.viewer(id:): Variable '$id' of type 'ID!' used"
                " in position expecting type 'Int'.",
            ],
        ),
    ],
    ids=[
        "field-added",
        "selected-field-changes-type",
        "selected-field-removed",
        "unused-argument-changes-type",
        "passed-argument-changes-type",
    ],
)
def test_check_exit_code_says_whether_the_candidate_breaks_us(
    workspace, tmp_path, capsys, replacement, exit_code, expected
):
    schema, queries = workspace
    candidate = tmp_path / "candidate.graphql"
    candidate.write_text(edit(SMALL_SDL, replacement), encoding="utf-8")

    code = schema_tool.main(
        ["check", str(candidate), "--schema", str(schema), "--queries", str(queries)]
    )

    out, err = capsys.readouterr()
    assert (code, err) == (exit_code, "")
    for line in expected:
        assert line in out
    assert schema.read_text(encoding="utf-8") == SMALL_SDL  # check never writes


def test_check_reads_a_candidate_saved_as_introspection_json_as_schema_diff_does(
    workspace, tmp_path, capsys
):
    # An endpoint's introspection answer, saved: before, "Syntax Error: Expected Name".
    schema, queries = workspace
    candidate = tmp_path / "candidate.json"
    removed = SMALL_SDL.replace("  email: String\n", "")
    candidate.write_text(json.dumps(introspection(removed)), encoding="utf-8")

    code = schema_tool.main(
        ["check", str(candidate), "--schema", str(schema), "--queries", str(queries)]
    )

    out, err = capsys.readouterr()
    assert (code, err) == (1, "")
    assert "FIELD_REMOVED  Viewer.email was removed.  [used by getViewer]" in out
    assert schema.read_text(encoding="utf-8") == SMALL_SDL


def test_check_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as exited:
        schema_tool.main(["check", "--help"])

    assert exited.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Exit 0: nothing breaks us; 1: an operation breaks (it no longer validates" in help_text
    assert "2: bad input" in help_text


# --- check: bad input -------------------------------------------------------------------------


def assert_one_line_error(stderr, *fragments):
    assert stderr.startswith("schema: ")
    assert stderr.endswith("\n")
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in stderr


@pytest.mark.parametrize(
    ("candidate_text", "expected"),
    [
        (None, "cannot read schema"),
        ("type Query {", "is not a valid GraphQL schema: Syntax Error"),
        ("type Query {\n  viewer: Nope\n}\n", "is not a valid GraphQL schema: Unknown type"),
        ("type Query\n", "is not a valid GraphQL schema: Type Query must define one or more"),
        ("not graphql at all", "is not a valid GraphQL schema: Syntax Error"),
    ],
    ids=["missing", "unfinished", "unknown-type", "no-fields", "garbage"],
)
def test_check_rejects_a_bad_candidate_with_one_line_and_exit_2(
    workspace, tmp_path, capsys, candidate_text, expected
):
    schema, queries = workspace
    candidate = tmp_path / "candidate.graphql"
    if candidate_text is not None:
        candidate.write_text(candidate_text, encoding="utf-8")

    code = schema_tool.main(
        ["check", str(candidate), "--schema", str(schema), "--queries", str(queries)]
    )

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert_one_line_error(err, str(candidate), expected)


def test_check_rejects_a_missing_queries_folder_with_exit_2(workspace, tmp_path, capsys):
    schema, _ = workspace

    code = schema_tool.main(
        ["check", str(schema), "--schema", str(schema), "--queries", str(tmp_path / "nope")]
    )

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert_one_line_error(err, "operations folder", "not found")


@pytest.mark.slow
def test_check_command_with_a_missing_file_prints_one_line_and_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, str(TOOL), "check", str(tmp_path / "missing.graphql")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stdout) == (2, "")
    assert_one_line_error(result.stderr, "missing.graphql", "No such file or directory")


# --- fetch ------------------------------------------------------------------------------------

URL = "https://kraken.test/v1/graphql/"
TOKEN = "tok-5ecret-jwt"  # a stand-in for a Kraken token
# The small schema, one field added.
NEW_SMALL_SDL = SMALL_SDL.replace("  email: String\n", "  email: String\n  givenName: String\n")


def introspection(sdl):
    """What a GraphQL server serving `sdl` answers to the introspection query."""
    result = graphql.graphql_sync(graphql.build_schema(sdl), graphql.get_introspection_query())
    assert result.errors is None
    return {"data": result.data}


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("KRAKEN_URL", URL)
    monkeypatch.delenv("KRAKEN_TOKEN", raising=False)
    return monkeypatch


def fetch(schema, queries):
    return schema_tool.main(["fetch", "--schema", str(schema), "--queries", str(queries)])


@pytest.mark.parametrize("token", [None, TOKEN], ids=["without-token", "with-token"])
def test_fetch_replaces_the_schema_with_a_header_and_the_introspected_sdl(
    workspace, env, httpx_mock, capsys, token
):
    schema, queries = workspace
    if token:
        env.setenv("KRAKEN_TOKEN", token)
    httpx_mock.add_response(url=URL, method="POST", json=introspection(NEW_SMALL_SDL))

    code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    request = httpx_mock.get_request()
    assert "__schema" in json.loads(request.content)["query"]
    # Kraken takes the bare token: no "Bearer", and no header at all without a token.
    assert request.headers.get("Authorization") == token
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    text = schema.read_text(encoding="utf-8")
    header, sdl = text.split("\n\n", 1)
    assert f"# Introspected from {URL} on {today} (UTC)" in header
    assert all(line.startswith("#") for line in header.splitlines())
    assert sdl == graphql.print_schema(graphql.build_schema(NEW_SMALL_SDL)) + "\n"
    assert "FIELD_ADDED  Viewer.givenName was added." in out
    assert "FINE: no operation breaks or uses a deprecated element." in out
    assert f"Replaced {schema}. Next: `make generate`." in out
    if token:
        assert token not in out + text


WITHOUT_EMAIL = SMALL_SDL.replace("  email: String\n", "")


def test_fetch_refuses_a_schema_that_breaks_an_operation_saying_which_and_exits_1(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    httpx_mock.add_response(url=URL, json=introspection(WITHOUT_EMAIL))

    code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert (code, err) == (1, "")
    assert "FIELD_REMOVED  Viewer.email was removed.  [used by getViewer]" in out
    assert "viewer.graphql:4: field Viewer.email: Cannot query field 'email'" in out
    assert out.rstrip().endswith(
        f"Left {schema} as it is: {URL} breaks 1 of our operations (getViewer). Fix queries/"
        " first (the reasons are above), or `make schema ALLOW_BREAKING=1` to write it anyway."
    )
    assert schema.read_text(encoding="utf-8") == SMALL_SDL
    assert sorted(p.name for p in schema.parent.iterdir()) == ["queries", "schema.graphql"]


def test_fetch_with_allow_breaking_writes_a_breaking_schema_and_still_exits_1(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    httpx_mock.add_response(url=URL, json=introspection(WITHOUT_EMAIL))

    code = schema_tool.main(
        ["fetch", "--allow-breaking", "--schema", str(schema), "--queries", str(queries)]
    )

    out, _ = capsys.readouterr()
    assert code == 1
    assert "though it breaks us" in out
    assert f"`git checkout {schema}` to go back" in out
    assert "email" not in schema.read_text(encoding="utf-8")


def test_make_schema_passes_allow_breaking_to_the_tool():
    result = subprocess.run(
        ["make", "-n", "schema", "ALLOW_BREAKING=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert "tools/schema_tool.py fetch --allow-breaking" in result.stdout


def test_fetch_without_a_current_schema_writes_one(workspace, env, httpx_mock, capsys):
    schema, queries = workspace
    schema.unlink()
    httpx_mock.add_response(url=URL, json=introspection(SMALL_SDL))

    code = fetch(schema, queries)

    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith(f"No current schema to compare {URL} (introspected) with.")
    assert graphql.build_schema(schema.read_text(encoding="utf-8")).get_type("Viewer")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "cannot reach"),
        (httpx.ReadTimeout("timed out"), "no answer in time (ReadTimeout)"),
        (httpx.Response(502), "answered HTTP 502 Bad Gateway"),
        (httpx.Response(401), "answered HTTP 401 Unauthorized;"),
        (httpx.Response(200, html="<h1>Welcome</h1>"), "did not answer with JSON (text/html"),
        (
            httpx.Response(200, json={"errors": [{"message": "Introspection is disabled"}]}),
            "refused the introspection query: Introspection is disabled",
        ),
        (httpx.Response(200, json={"data": {"viewer": None}}), "no usable introspection result"),
        (httpx.Response(200, json=[1, 2]), "did not answer with a GraphQL response"),
    ],
    ids=[
        "connect-error",
        "timeout",
        "http-502",
        "http-401",
        "not-json",
        "graphql-errors",
        "not-introspection",
        "json-not-an-object",
    ],
)
def test_fetch_failure_prints_one_line_exits_3_and_leaves_the_schema_alone(
    workspace, env, httpx_mock, capsys, answer, expected
):
    schema, queries = workspace
    before = sorted(schema.parent.iterdir())
    if isinstance(answer, Exception):
        httpx_mock.add_exception(answer, url=URL)
    else:
        httpx_mock.add_callback(lambda request: answer, url=URL)

    code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert (code, out) == (3, "")
    assert_one_line_error(err, URL, expected, "left unchanged")
    assert schema.read_text(encoding="utf-8") == SMALL_SDL
    assert sorted(schema.parent.iterdir()) == before  # no temporary file left behind


def test_fetch_401_tells_you_to_set_kraken_token(workspace, env, httpx_mock, capsys):
    schema, queries = workspace
    httpx_mock.add_response(url=URL, status_code=401)

    fetch(schema, queries)

    assert "(set KRAKEN_TOKEN to a Kraken token" in capsys.readouterr().err


def test_fetch_never_prints_the_token_even_when_the_server_echoes_it(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    env.setenv("KRAKEN_TOKEN", TOKEN)
    httpx_mock.add_response(url=URL, json={"errors": [{"message": f"Invalid token {TOKEN}"}]})

    code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert code == 3
    assert "Invalid token ***" in err
    assert TOKEN not in out + err


def test_fetch_never_writes_the_token_into_the_schema_when_the_server_echoes_it(
    workspace, env, httpx_mock, capsys
):
    # schema.graphql is committed: a description quoting the token (a hostile server, or one
    # echoing the request while debugging) must not carry it into the repository.
    schema, queries = workspace
    env.setenv("KRAKEN_TOKEN", TOKEN)
    echoing = NEW_SMALL_SDL.replace("type Viewer {", f'"""Served to {TOKEN}"""\ntype Viewer {{')
    httpx_mock.add_response(url=URL, method="POST", json=introspection(echoing))

    code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert code == 0, err
    written = schema.read_text(encoding="utf-8")
    quoted = TOKEN in written + out + err  # (asserted apart: a failure prints no token)
    assert (written.count("Served to ***"), quoted) == (1, False)


def test_fetch_never_prints_part_of_the_token_where_a_long_message_is_cut(
    workspace, env, httpx_mock, capsys
):
    # Before: the message was cut to one line of 300 characters first, then the whole token
    # masked; a token the server quoted across the cut was shown in part ("tok-5ecr...").
    schema, queries = workspace
    env.setenv("KRAKEN_TOKEN", TOKEN)
    message = "x" * 280 + f" Invalid token {TOKEN}"
    httpx_mock.add_response(url=URL, json={"errors": [{"message": message}]})

    code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert code == 3
    assert TOKEN[:4] not in out + err
    assert "Invalid token ***" in err


class _Output:
    """A stdout every write to fails with `error`: a reader gone (`| head -1`), a full disk."""

    def __init__(self, error):
        self.error = error

    def write(self, text):
        raise self.error

    def flush(self):
        pass

    def fileno(self):
        raise OSError("no file descriptor")  # the CLI's dup2 to /dev/null: nothing to point


def test_fetch_whose_reader_went_away_still_replaces_the_file_quietly_exit_141(
    workspace, env, httpx_mock, capsys, monkeypatch
):
    # Before: `make schema | head -1` was a BrokenPipeError traceback, exit 1 ("breaks our
    # operations"), and the schema never written.
    schema, queries = workspace
    httpx_mock.add_response(url=URL, method="POST", json=introspection(NEW_SMALL_SDL))
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", _Output(BrokenPipeError(32, "Broken pipe")))

    code = fetch(schema, queries)

    assert (code, capsys.readouterr().err) == (141, "")
    assert "givenName: String" in schema.read_text(encoding="utf-8")


def test_a_report_that_cannot_be_written_is_one_line_exit_2_never_the_verdict_1(
    workspace, env, capsys, monkeypatch
):
    # Before: an OSError traceback and exit 1 ("breaks our operations"), on a full disk.
    schema, queries = workspace
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", _Output(OSError(28, "No space left on device")))

    code = schema_tool.main(
        ["check", str(schema), "--schema", str(schema), "--queries", str(queries)]
    )

    assert code == 2
    assert_one_line_error(capsys.readouterr().err, "cannot write the report: No space left")


def test_a_servers_message_holding_escape_codes_is_shown_spelt_out(
    workspace, env, httpx_mock, capsys
):
    # Before: the server's error message reached the terminal as it was (here: clear screen).
    schema, queries = workspace
    httpx_mock.add_response(url=URL, json={"errors": [{"message": "no\x1b[2J\x07 way"}]})

    code = fetch(schema, queries)

    err = capsys.readouterr().err
    assert code == 3
    assert "\x1b" not in err
    assert_one_line_error(err, "refused the introspection query: no\\x1b[2J\\x07 way")


def test_fetch_schema_returns_the_introspected_schema(httpx_mock):
    httpx_mock.add_response(url=URL, json=introspection(SMALL_SDL))

    schema = schema_tool.fetch_schema(URL, None)

    assert graphql.print_schema(schema) == graphql.print_schema(graphql.build_schema(SMALL_SDL))


@pytest.mark.slow  # a process
def test_fetch_command_with_an_unreachable_endpoint_prints_one_line_and_exits_3(workspace):
    schema, queries = workspace
    unreachable = "http://127.0.0.1:9/v1/graphql/"  # the discard port: nothing listens
    env = {k: v for k, v in os.environ.items() if k != "KRAKEN_TOKEN"}
    env["KRAKEN_URL"] = unreachable

    result = subprocess.run(
        [sys.executable, str(TOOL), "fetch", "--schema", str(schema), "--queries", str(queries)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )

    assert (result.returncode, result.stdout) == (3, "")
    assert_one_line_error(result.stderr, f"cannot reach {unreachable}", "left unchanged")
    assert schema.read_text(encoding="utf-8") == SMALL_SDL


# --- fetch keeps our annotations; guessed parts -----------------------------------------------


def introspection_of(schema):
    """What a GraphQL server serving `schema` answers to the introspection query."""
    result = graphql.graphql_sync(schema, graphql.get_introspection_query(descriptions=True))
    assert result.errors is None
    return {"data": result.data}


@pytest.fixture
def schema_copy(tmp_path, current_sdl):
    """A copy of the real schema.graphql, for fetch to keep or replace."""
    copy = tmp_path / "schema.graphql"
    copy.write_text(current_sdl, encoding="utf-8")
    return copy


@pytest.mark.slow  # introspects the full schema, then compares it in full
def test_a_no_change_refresh_leaves_schema_graphql_byte_for_byte_with_comments_and_guessed_markers(
    schema_copy, current, current_sdl, env, httpx_mock, capsys
):
    before = schema_copy.read_bytes()
    assert before.count(b"# guessed") > 40  # what there is to lose
    httpx_mock.add_response(url=URL, json=introspection_of(current))

    code = fetch(schema_copy, QUERIES)

    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert schema_copy.read_bytes() == before
    assert sorted(p.name for p in schema_copy.parent.iterdir()) == ["schema.graphql"]
    assert f"Left {schema_copy} as it is: {URL} has the same types" in out
    assert "comments and guessed markers stay" in out
    assert "Replaced" not in out
    assert "52 parts (marked in 47 comments): all agree with" in out


def test_descriptions_and_field_order_alone_do_not_count_as_a_change(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    annotated = "# our note, which no server sends back\n" + SMALL_SDL
    schema.write_text(annotated, encoding="utf-8")
    described = (
        '"The root."\ntype Query {\n  "Who is asking."\n'
        "  viewer(locale: String, id: ID): Viewer\n}\n"
        '\n"A user."\ntype Viewer {\n  email: String\n  id: ID!\n}\n'
    )
    httpx_mock.add_response(url=URL, json=introspection(described))

    code = fetch(schema, queries)

    assert code == 0
    assert schema.read_text(encoding="utf-8") == annotated
    assert "Left " in capsys.readouterr().out


def test_a_deprecation_counts_as_a_change_and_the_new_schema_is_written_with_its_descriptions(
    workspace, env, httpx_mock, capsys
):
    # find_breaking_changes does not see a deprecation; the full comparison does.
    schema, queries = workspace
    served = SMALL_SDL.replace(
        "  email: String\n", '  "Where we write to."\n  email: String @deprecated(reason: "gone")\n'
    )
    httpx_mock.add_response(url=URL, json=introspection(served))

    code = fetch(schema, queries)

    assert code == 0
    text = schema.read_text(encoding="utf-8")
    assert '@deprecated(reason: "gone")' in text
    assert '"""Where we write to."""' in text
    assert f"Replaced {schema}." in capsys.readouterr().out


# Edits of the real schema that confirm, contradict and leave unknown some guessed parts.
AVAILABILITY_FIELD = "  availabilityStatus: String # guessed (probably an enum server-side)\n"
INTERVAL_TYPE = "type IntervalReadingType { # guessed name"
INTERVAL_FIELD = "intervalReadings(input: IntervalReadingInput!): [IntervalReadingType] # guessed"
DAILY_TYPE = "type DailyReadingType { # guessed name"
LIVE_SCHEMA_EDITS = (
    # The guessed String is an enum there.
    (
        AVAILABILITY_FIELD,
        '  "Whether it can be bought."\n  availabilityStatus: ProductAvailability\n',
    ),
    ("enum UsagePeriod {", "enum ProductAvailability {\n  AVAILABLE\n}\n\nenum UsagePeriod {"),
    # The guessed type name is another.
    (INTERVAL_TYPE, "type IntervalReading {"),
    (INTERVAL_FIELD, INTERVAL_FIELD.replace("[IntervalReadingType]", "[IntervalReading]")),
    # The type and the only field returning it are not there at all.
    (DAILY_READINGS_FIELD, ""),
    (DAILY_TYPE, "type UnusedDailyReadingType {"),
)


@pytest.fixture(scope="module")
def live_schema(current_sdl):
    return build(edit(current_sdl, *LIVE_SCHEMA_EDITS))


@pytest.mark.slow  # introspects the full schema
def test_a_changed_type_is_reported_against_its_guessed_marker_and_the_file_replaced(
    schema_copy, live_schema, env, httpx_mock, capsys
):
    httpx_mock.add_response(url=URL, json=introspection_of(live_schema))

    code = schema_tool.main(
        ["fetch", "--allow-breaking", "--schema", str(schema_copy), "--queries", str(QUERIES)]
    )

    out, err = capsys.readouterr()
    # Our readings operations use what changed: reported (exit 1), and the file replaced, as
    # --allow-breaking asks.
    assert (code, err) == (1, "")
    assert re.search(r"^getDailyReadings +breaks", out, re.MULTILINE)

    def line(text):
        return f"{schema_copy}:{line_of(SCHEMA, text)}"

    expected = [
        f"contradicted  {line(AVAILABILITY_FIELD.strip())}  ProductType.availabilityStatus: "
        "String guessed, ProductAvailability there  [# guessed (probably an enum server-side)]",
        f"contradicted  {line(INTERVAL_TYPE)}  IntervalReadingType: no type IntervalReadingType;"
        " it is IntervalReading there (Query.intervalReadings: [IntervalReading])",
        f"confirmed     {line('meterPointId: String # guessed (could be ID)')}  "
        "IntervalReadingType.meterPointId: String as guessed (on IntervalReading, its name there)",
        f"contradicted  {line(DAILY_READINGS_FIELD.strip())}  Query.dailyReadings: "
        "Query has no dailyReadings there",
        f"unknown       {line(DAILY_TYPE)}  DailyReadingType: no type DailyReadingType, nor any "
        "field of ours that has it",
        f"unknown       {line('readAt: DateTime # guessed')}  DailyReadingType.readAt: no type",
        f"confirmed     {line(TDSP_FIELD.strip())}  Query.tdspByPostalcode: [TdspType] as guessed",
        f"confirmed     {line('# guessed type names (ProductRatesType')}  EflType: an object "
        "type there, as guessed",
    ]
    for text in expected:
        assert text in out
    assert "5 contradicted, 6 left unknown, 41 confirmed" in out
    written = schema_copy.read_text(encoding="utf-8")
    assert "# guessed" not in written  # replaced: the report above is what is left of them
    assert '"""Whether it can be bought."""' in written
    assert f"# Introspected from {URL}" in written
    assert f"Replaced {schema_copy}" in out
    assert f"`git checkout {schema_copy}` to go back" in out  # it breaks us: say how to undo


@pytest.mark.slow  # walks every token of the full schema
def test_the_guessed_markers_of_schema_graphql_are_found_on_what_they_mark(current_sdl):
    parts = schema_tool.find_guessed_parts(current_sdl)

    subjects_by_line = {}
    for part in parts:
        subjects_by_line.setdefault(part.line, []).append(part.subject)
    assert len(parts) == 52
    assert len(subjects_by_line) == 47
    assert sum("guessed" in line for line in current_sdl.splitlines()) == 49  # 2 mark nothing

    def at(text):
        return subjects_by_line[line_of(SCHEMA, text)]

    assert at(TDSP_FIELD.strip()) == ["Query.tdspByPostalcode"]  # at the end of a field
    assert at("): [AddressLookupType] # guessed: list") == ["Query.addressLookup"]  # multi-line
    assert at(INTERVAL_TYPE) == ["IntervalReadingType"]  # at the end of a type's first line
    assert at("# guessed name; only ANNUALLY") == ["UsagePeriod"]  # above a type
    assert at("element type name guessed") == ["Query.products"]  # above a field
    assert at("# guessed type names (ProductRatesType") == [
        "ProductRatesType",
        "RateGroupType",
        "ConsumptionRateType",
        "StandingRateType",
        "EflType",
    ]
    # The file header and the convention note mention "# guessed" but mark nothing.
    assert line_of(SCHEMA, 'are marked "# guessed" below') not in subjects_by_line
    assert line_of(SCHEMA, 'Convention: "# guessed"') not in subjects_by_line


def test_guessed_in_a_description_or_a_comment_apart_from_any_definition_marks_nothing():
    sdl = (
        "# guessed: the file header\n"
        "\n"
        '"""A guessed description is no marker."""\n'
        "type Query {\n"
        "  # guessed, but a blank line follows\n"
        "\n"
        '  viewer: Viewer @deprecated(reason: "guessed in a string # guessed")\n'
        "}\n"
        "\n"
        "type Viewer {\n"
        "  id: ID # guessed\n"
        "}\n"
        "\n"
        "enum Zone {\n"
        "  # guessed value\n"
        "  WEST\n"
        "}\n"
    )

    parts = schema_tool.find_guessed_parts(sdl)

    assert [(p.line, p.subject) for p in parts] == [(11, "Viewer.id"), (15, "Zone.WEST")]


# A small schema whose file marks two guesses.
GUESSED_SMALL_SDL = SMALL_SDL.replace("  email: String\n", "  email: String # guessed\n").replace(
    "type Viewer {", "type Viewer { # guessed name"
)


def test_check_with_a_url_is_a_dry_run_that_judges_the_guesses_and_writes_nothing(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    schema.write_text(GUESSED_SMALL_SDL, encoding="utf-8")
    httpx_mock.add_response(
        url=URL, json=introspection(SMALL_SDL.replace("email: String", "email: Int"))
    )

    code = schema_tool.main(
        ["check", "--url", URL, "--schema", str(schema), "--queries", str(queries)]
    )

    out, err = capsys.readouterr()
    assert (code, err) == (1, "")  # getViewer selects email: our model says str
    assert f"contradicted  {schema}:7  Viewer.email: String guessed, Int there  [# guessed]" in out
    assert f"contradicted  {schema}:5  Viewer: an object type there, but differs: email is Int" in (
        out
    )
    # make schema refuses a schema that breaks one of our operations: the dry run says so.
    assert (
        f"Dry run: `make schema` would leave {schema} as it is: it breaks 1 of our operations"
        " (getViewer). Fix queries/ first, or `make schema ALLOW_BREAKING=1` to write it anyway."
    ) in out
    assert "would replace" not in out
    assert schema.read_text(encoding="utf-8") == GUESSED_SMALL_SDL


def test_check_with_a_url_that_only_adds_says_make_schema_would_replace_the_file(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    schema.write_text(GUESSED_SMALL_SDL, encoding="utf-8")
    added = SMALL_SDL.replace("  email: String\n", "  email: String\n  nickname: String\n")
    httpx_mock.add_response(url=URL, json=introspection(added))

    code = schema_tool.main(
        ["check", "--url", URL, "--schema", str(schema), "--queries", str(queries)]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert f"Dry run: `make schema` would replace {schema}, and its comments" in out
    assert schema.read_text(encoding="utf-8") == GUESSED_SMALL_SDL


def test_check_with_a_url_serving_the_same_types_says_make_schema_would_keep_the_file(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    schema.write_text(GUESSED_SMALL_SDL, encoding="utf-8")
    httpx_mock.add_response(url=URL, json=introspection(SMALL_SDL))

    code = schema_tool.main(
        ["check", "--url", URL, "--schema", str(schema), "--queries", str(queries)]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "2 parts (marked in 2 comments): all agree with" in out
    assert "Dry run: `make schema` would leave" in out


def test_check_with_an_unreachable_url_prints_one_line_and_exits_3(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"), url=URL)

    code = schema_tool.main(
        ["check", "--url", URL, "--schema", str(schema), "--queries", str(queries)]
    )

    out, err = capsys.readouterr()
    assert (code, out) == (3, "")
    assert_one_line_error(err, f"cannot reach {URL}", "nothing compared")


@pytest.mark.parametrize(
    "arguments", [["check"], ["check", "candidate.graphql", "--url", URL]], ids=["none", "both"]
)
def test_check_needs_exactly_one_of_a_candidate_file_and_a_url(arguments, capsys):
    with pytest.raises(SystemExit) as exited:
        schema_tool.main(arguments)

    assert exited.value.code == 2
    assert "candidate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("URL=https://kraken.test/v1/graphql/", 'check --url "https://kraken.test/v1/graphql/"'),
        ("SCHEMA=candidate.graphql", 'check  "candidate.graphql"'),
    ],
)
def test_make_schema_check_passes_a_url_or_a_file_to_the_tool(variable, expected):
    result = subprocess.run(
        ["make", "-n", "schema-check", variable],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert f"tools/schema_tool.py {expected}" in result.stdout


# --- fetch against hostile answers ------------------------------------------------------------


def test_fetch_of_an_answer_nested_deeper_than_python_parses_prints_one_line_and_exits_3(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    depth = 100_000  # far past the recursion limit of Python's json parser
    httpx_mock.add_response(url=URL, content=b'{"data":' + b"[" * depth + b"]" * depth + b"}")

    code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert (code, out) == (3, "")
    assert_one_line_error(err, "did not answer with JSON", "left unchanged")
    assert schema.read_text(encoding="utf-8") == SMALL_SDL


def test_fetch_stops_reading_an_answer_that_inflates_past_the_limit_and_exits_3(
    workspace, env, capsys, monkeypatch
):
    schema, queries = workspace
    monkeypatch.setattr(schema_tool, "ANSWER_BYTES", 1_000_000)
    # A gzip bomb in small: 100 kB on the wire, 100 MB once inflated.
    bomb = gzip.compress(b" " * 100_000_000)
    gzipped = "Content-Encoding: gzip\r\n"
    with HostileServer(lambda request: at_once(bomb, headers=gzipped)) as server:
        env.setenv("KRAKEN_URL", server.url)
        code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert (code, out) == (3, "")
    assert_one_line_error(err, "answered more than", "far more than a schema", "left unchanged")
    assert schema.read_text(encoding="utf-8") == SMALL_SDL


def test_fetch_gives_up_on_an_answer_trickling_in_a_byte_at_a_time_and_exits_3(
    workspace, env, capsys, monkeypatch
):
    schema, queries = workspace
    # Each byte comes well within TIMEOUT (a read's), the whole answer never.
    monkeypatch.setattr(schema_tool, "ANSWER_SECONDS", 1.0)
    body = json.dumps(introspection(NEW_SMALL_SDL)).encode()
    with HostileServer(lambda request: trickle(body, every=0.2)) as server:
        env.setenv("KRAKEN_URL", server.url)
        code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert (code, out) == (3, "")
    assert_one_line_error(err, "no whole answer within 1 s", "left unchanged")
    assert schema.read_text(encoding="utf-8") == SMALL_SDL


def test_fetch_rate_limited_says_when_to_rerun_from_retry_after(workspace, env, httpx_mock, capsys):
    schema, queries = workspace
    httpx_mock.add_response(url=URL, status_code=429, headers={"Retry-After": "120"})

    code = fetch(schema, queries)

    out, err = capsys.readouterr()
    assert (code, out) == (3, "")
    assert_one_line_error(err, "HTTP 429", "rate limited: rerun `make schema` after 120 s")


@pytest.mark.slow  # a process, interrupted once it is waiting for the answer
def test_ctrl_c_during_make_schema_says_so_in_one_line_exits_130_and_keeps_the_schema(workspace):
    schema, queries = workspace
    env = {k: v for k, v in os.environ.items() if k != "KRAKEN_TOKEN"}
    # A server that takes the request and never answers: the tool is waiting when interrupted.
    with HostileServer(lambda request: iter([(b"", 60.0)])) as server:
        env["KRAKEN_URL"] = server.url
        process = subprocess.Popen(
            [
                sys.executable,
                str(TOOL),
                "fetch",
                "--schema",
                str(schema),
                "--queries",
                str(queries),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            # A shell's background job ignores SIGINT; a terminal's Ctrl-C does not.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)

    assert (process.returncode, out) == (130, "")
    assert_one_line_error(err, "interrupted", "schema.graphql left unchanged")
    assert sorted(p.name for p in schema.parent.iterdir()) == ["queries", "schema.graphql"]
    assert schema.read_text(encoding="utf-8") == SMALL_SDL


def test_fetch_refuses_a_read_only_schema_graphql_in_one_line_with_exit_2_and_keeps_it(
    workspace, env, httpx_mock, capsys
):
    schema, queries = workspace
    schema.chmod(0o444)  # made read-only on purpose (even root, who may still rename over it)

    code = fetch(schema, queries)  # no request: it fails before asking (httpx_mock has none)

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert_one_line_error(err, "is read-only", "left unchanged")
    assert schema.read_text(encoding="utf-8") == SMALL_SDL
    assert schema.stat().st_mode & 0o777 == 0o444


def test_fetch_through_a_symlinked_schema_graphql_replaces_its_target_and_keeps_the_link(
    workspace, env, httpx_mock, capsys, tmp_path
):
    schema, queries = workspace
    target = tmp_path / "kept" / "schema.graphql"
    target.parent.mkdir()
    schema.rename(target)
    schema.symlink_to(target)
    httpx_mock.add_response(url=URL, json=introspection(NEW_SMALL_SDL))

    code = fetch(schema, queries)

    assert code == 0, capsys.readouterr()
    assert schema.is_symlink()
    assert "givenName: String" in target.read_text(encoding="utf-8")
    assert sorted(p.name for p in target.parent.iterdir()) == ["schema.graphql"]


@pytest.mark.parametrize("command", ["fetch", "check"])
def test_a_token_is_never_sent_over_plain_http_off_loopback(
    workspace, env, httpx_mock, capsys, command
):
    # The clients' rule: https, or http:// on loopback only. A token for http://other would
    # travel unencrypted; refused before any request, with what to do, and the file kept.
    schema, queries = workspace
    before = schema.read_bytes()
    env.setenv("KRAKEN_TOKEN", TOKEN)
    plain = "http://kraken.example.net/v1/graphql/"
    env.setenv("KRAKEN_URL", plain)
    args = ["--schema", str(schema), "--queries", str(queries)]
    code = schema_tool.main([command, *args] + (["--url", plain] if command == "check" else []))
    out, err = capsys.readouterr()
    assert code == 2
    [line] = err.splitlines()
    assert "refusing to send KRAKEN_TOKEN over plain http://" in line
    assert "use https://" in line
    assert TOKEN not in out + err
    assert httpx_mock.get_requests() == []
    assert schema.read_bytes() == before


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/graphql/", "http://localhost:8000/g/"])
def test_a_token_may_go_over_plain_http_to_loopback(workspace, env, httpx_mock, capsys, url):
    schema, queries = workspace
    env.setenv("KRAKEN_TOKEN", TOKEN)
    env.setenv("KRAKEN_URL", url)
    httpx_mock.add_response(url=url, method="POST", json=introspection(NEW_SMALL_SDL))
    assert fetch(schema, queries) == 0, capsys.readouterr().err
    assert httpx_mock.get_request().headers["Authorization"] == TOKEN
