"""Tomorrow's schema, served by `oeus-kraken sandbox --schema`, and the README's CI recipe run
against it.

One sandbox process for the module serves a modified copy of schema.graphql: a root field
removed, a field's type changed, a field deprecated with a reason, an enum value added, an
argument made required, a field added. Against it:

  * `schema diff schema.graphql <its URL>` gives the same report as the file-to-file diff;
  * the sandbox answers with the seeded data where the schemas agree, and with typed placeholders
    where a field is new or changed type;
  * the GitHub Actions step in the README, taken from the README itself and run by bash with the
    sandbox as the test endpoint and a stand-in `gh`, posts and fails, or passes, as it says.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli_helpers import Cli, clean_env, cli, process_env

from oeus_kraken.sandbox import DEMO_API_KEY

__all__ = ["clean_env", "cli"]  # fixtures, used by name

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema.graphql"
README = ROOT / "README.md"

REASON = "Use `displayName`.\\n\\nWill be removed on 2027-06-01."
EDITS = (
    # A root field removed.
    ("  tdspByPostalcode(postalCode: String!): [TdspType] # guessed return type\n", ""),
    # A type changed, a field deprecated with a reason, a field added (ProductType).
    (
        "  description: String\n  displayName: String\n  fullName: String\n"
        "  generationCredit: Decimal # guessed\n",
        "  description: String\n  displayName: Int\n"
        f'  fullName: String @deprecated(reason: "{REASON}")\n'
        "  generationCredit: Decimal # guessed\n  greenShare: Float\n",
    ),
    # An enum value added.
    ("  LZ_WEST\n}", "  LZ_WEST\n  LZ_AEN\n}"),
    # An argument made required (Query.products).
    (
        "    prepay: Boolean\n    basedOnTimeOfUse: Boolean\n    availableAt: DateTime\n"
        "  ): [ProductType]",
        "    prepay: Boolean!\n    basedOnTimeOfUse: Boolean\n    availableAt: DateTime\n"
        "  ): [ProductType]",
    ),
)

pytestmark = pytest.mark.slow  # a sandbox process building two schemas, CLI runs over the full one


def edited(sdl: str) -> str:
    for old, new in EDITS:
        assert sdl.count(old) == 1, f"the edit no longer applies: {old!r}"
        sdl = sdl.replace(old, new)
    return sdl


@pytest.fixture(scope="module")
def tomorrow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tomorrow") / "tomorrow.graphql"
    path.write_text(edited(SCHEMA.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            return process.stdout.readline()
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
    raise AssertionError(f"the sandbox printed nothing in {timeout} s")


@pytest.fixture(scope="module")
def sandbox_url(tomorrow: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`oeus-kraken sandbox --port 0 --schema tomorrow.graphql`, as a user starts it."""
    home = tmp_path_factory.mktemp("home")
    process = subprocess.Popen(
        [sys.executable, "-m", "oeus_kraken", "sandbox", "--port", "0", "--schema", str(tomorrow)],
        env=process_env({}, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = _first_line(process, timeout=120)
        match = re.search(r"http://127\.0\.0\.1:\d+/v1/graphql/", banner)
        assert match, banner
        yield match.group(0)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


# -- the sandbox as NEW ---------------------------------------------------------------------------


@pytest.mark.usefixtures("clean_env", "schemas_built_once")
def test_the_sandbox_introspected_as_new_gives_the_verdict_of_the_file_it_serves(
    cli: Cli, sandbox_url: str, tomorrow: Path
) -> None:
    # In this process: the command's report is the point here (the sandbox is the process).
    from_file = cli("schema", "diff", str(SCHEMA), str(tomorrow), "--json")
    from_sandbox = cli("schema", "diff", str(SCHEMA), sandbox_url, "--json")

    assert (from_sandbox.code, from_sandbox.err) == (1, "")
    assert from_file.code == 1
    served, written = json.loads(from_sandbox.out), json.loads(from_file.out)
    assert served["new"] == sandbox_url
    for report in (served, written):
        del report["new"]
    assert served == written
    verdicts = {op["name"]: op["verdict"] for op in served["operations"]}
    assert verdicts["getTdspByPostalCode"] == "breaks"  # the field removed
    assert verdicts["getProducts"] == "breaks"  # passes $prepay: Boolean, now Boolean!
    assert verdicts["getViewer"] == "fine"
    changes = {(c["type"], c["coordinate"]) for group in served["changes"].values() for c in group}
    assert {
        ("FIELD_REMOVED", "Query.tdspByPostalcode"),
        ("FIELD_CHANGED_KIND", "ProductType.displayName"),
        ("FIELD_DEPRECATED", "ProductType.fullName"),
        ("VALUE_ADDED_TO_ENUM", "LoadZone.LZ_AEN"),
        ("ARG_CHANGED_KIND", "Query.products(prepay:)"),
        ("FIELD_ADDED", "ProductType.greenShare"),
    } <= changes


def test_the_sandbox_serves_seeded_data_where_it_fits_and_typed_placeholders_elsewhere(
    sandbox_url: str,
) -> None:
    query = "{ products(prepay: false) { code displayName fullName greenShare } }"

    answer = httpx.post(sandbox_url, json={"query": query}, timeout=30).json()

    assert "errors" not in answer, answer
    products = answer["data"]["products"]
    assert products
    for product in products:
        assert product["code"] not in (None, "code")  # seeded
        assert product["fullName"] != "fullName"  # seeded, though deprecated now
        assert product["displayName"] == 0  # an Int now: the seeded text no longer fits
        assert product["greenShare"] == 0.0  # new: no seeded value


# -- the README's GitHub Actions step -------------------------------------------------------------


def recipe_step() -> tuple[dict[str, str], str]:
    """The env and run script of the README workflow's step that runs `schema diff`."""
    text = README.read_text(encoding="utf-8")
    [workflow] = [
        block
        for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
        if "oeus-kraken schema diff" in block
    ]
    lines = workflow.splitlines()
    start = next(i for i, line in enumerate(lines) if "oeus-kraken schema diff" in line)
    step = max(i for i in range(start) if lines[i].lstrip().startswith("- "))
    env: dict[str, str] = {}
    script: list[str] = []
    section = None
    for line in lines[step + 1 :]:
        stripped = line.strip()
        if stripped.startswith("- "):
            break
        if stripped in ("env:", "run: |"):
            section, indent = stripped, len(line) - len(line.lstrip())
            continue
        if section == "env:" and stripped:
            key, _, value = stripped.partition(": ")
            env[key] = value
        elif section == "run: |" and (not stripped or len(line) - len(line.lstrip()) > indent):
            script.append(line)
    return env, textwrap.dedent("\n".join(script))


FAKE_GH = """\
#!/bin/sh
# Stands in for the GitHub CLI: records what it was asked, finds no open issue.
echo "$*" >> "$GH_LOG"
if [ "$1 $2" = "issue create" ] || [ "$1 $2" = "issue comment" ]; then
  shift 2
  while [ $# -gt 0 ]; do
    if [ "$1" = "--body-file" ]; then cp "$2" "$GH_BODY"; fi
    shift
  done
fi
"""

OPERATIONS = {
    "breaks": 'query tdsp {\n  tdspByPostalcode(postalCode: "75001") {\n    loadZone\n  }\n}\n',
    "fine": "query codes {\n  products(prepay: false) {\n    code\n  }\n}\n",
}


@pytest.mark.parametrize(
    ("operation", "status", "posted"),
    [("breaks", 1, True), ("fine", 0, False)],
)
def test_the_readme_ci_step_posts_and_fails_or_passes_against_the_sandbox(
    sandbox_url: str, tmp_path: Path, operation: str, status: int, posted: bool
) -> None:
    env, script = recipe_step()
    assert env["KRAKEN_API_KEY"] == "${{ secrets.KRAKEN_API_KEY }}"  # from the repository's secrets
    assert "--markdown" in script
    assert "--fail-on-deprecated" in script  # exit 1 for a deprecation too (tested elsewhere)
    # The user's repository: the schema they generate from (committed), their operations.
    (tmp_path / "schema.graphql").write_bytes(SCHEMA.read_bytes())
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "mine.graphql").write_text(OPERATIONS[operation])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    summary, log, body = tmp_path / "summary.md", tmp_path / "gh.log", tmp_path / "body.md"
    environment = process_env(
        {
            "KRAKEN_TEST_URL": sandbox_url,  # the test endpoint, here the sandbox
            "KRAKEN_API_KEY": DEMO_API_KEY,  # the secret, here the sandbox's demo key
            "GH_TOKEN": "not-a-token",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GH_LOG": str(log),
            "GH_BODY": str(body),
            "PATH": os.pathsep.join(
                [str(bin_dir), str(Path(sys.executable).parent), "/usr/bin:/bin"]
            ),
        },
        tmp_path,
    )

    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == status, result.stderr
    report = summary.read_text()
    assert report.startswith("### Schema diff: `schema.graphql` → ")
    assert "| Group | Change | Description | Used by |" in report
    if posted:
        calls = log.read_text().splitlines()
        assert calls[0].startswith("issue list --state open")
        assert calls[1].startswith("issue create --title Kraken schema: our operations break")
        assert body.read_text() == report
        assert "| `tdsp` | **breaks** |" in report
    else:
        assert not log.exists()
        assert "**FINE: no operation breaks or uses a deprecated element.**" in report
