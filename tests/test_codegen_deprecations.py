"""Deprecations, said once and clearly, wherever operations are compiled.

`oeus-kraken codegen` prints one line per deprecated element an operation uses, on stderr, in
place of ariadne-codegen's Python warning dumps; `--fail-on-deprecated` makes it exit 1 and
write nothing. `make generate` (tools/generate.py) goes through the same `say_deprecations`.
The first test runs the command as a process of its own (a Python warning would be printed on
its stderr); the others run it in this process (codegen_helpers).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_helpers import Run
from codegen_helpers import codegen_here, codegen_process

from oeus_kraken.codegen import package_config, say_deprecations

ROOT = Path(__file__).resolve().parent.parent
REASON = "Use `code` instead.\\n\\nWill be removed on 2027-06-01."
SCHEMA = f"""\
type Query {{
  products(postalCode: String): [Product]
}}

enum Zone {{
  NORTH
  WEST @deprecated(reason: "Split in two.")
}}

type Product {{
  code: String
  oldField: String @deprecated(reason: "{REASON}")
  zone: Zone
}}
"""
OPERATION = """\
query oldProducts {
  products(postalCode: "75001") {
    code
    oldField
    zone
  }
}
"""
LINE = (
    "ops/products.graphql:4: field Product.oldField is deprecated: Use `code` instead. Will be "
    "removed on 2027-06-01."
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "schema.graphql").write_text(SCHEMA)
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "products.graphql").write_text(OPERATION)
    return tmp_path


ARGS = ("--queries", "ops", "--package", "pkg", "--target", "out", "--schema", "schema.graphql")


def codegen(project: Path, *options: str) -> Run:
    return codegen_here(*ARGS, *options, cwd=project)


@pytest.mark.slow
def test_codegen_says_each_deprecated_element_in_one_line_and_no_warning_dump(
    project: Path,
) -> None:
    run = codegen_process(*ARGS, cwd=project)

    assert run.returncode == 0, run.stderr
    # One line; the enum's deprecated value is not used by the operation (it only receives
    # the enum), and ariadne-codegen's own DeprecationWarnings are gone.
    assert run.stderr == LINE + "\n"
    assert (project / "out" / "pkg" / "sync_client.py").exists()


def test_fail_on_deprecated_exits_1_and_writes_nothing(project: Path) -> None:
    run = codegen(project, "--fail-on-deprecated")

    assert run.code == 1
    assert run.err_lines == [
        LINE,
        "oeus-kraken codegen: the operations use 1 deprecated element (--fail-on-deprecated): "
        "nothing written",
    ]
    assert not (project / "out").exists()


def test_fail_on_deprecated_leaves_an_existing_package_as_it_was(project: Path) -> None:
    assert codegen(project).code == 0
    before = {p: p.read_bytes() for p in (project / "out").rglob("*.py")}

    (project / "ops" / "products.graphql").write_text(OPERATION.replace("    zone\n", ""))
    run = codegen(project, "--fail-on-deprecated")

    assert run.code == 1
    assert {p: p.read_bytes() for p in (project / "out").rglob("*.py")} == before


def test_without_a_deprecated_element_codegen_is_quiet_and_fail_on_deprecated_passes(
    project: Path,
) -> None:
    (project / "ops" / "products.graphql").write_text(OPERATION.replace("    oldField\n", ""))

    run = codegen(project, "--fail-on-deprecated")

    assert (run.code, run.err) == (0, "")
    assert "codegen: wrote out/pkg" in run.out


def test_an_invalid_operation_is_still_exit_2_with_fail_on_deprecated(project: Path) -> None:
    (project / "ops" / "products.graphql").write_text(OPERATION.replace("code", "cod"))

    run = codegen(project, "--fail-on-deprecated")

    assert run.code == 2
    [line] = run.err_lines
    assert "Cannot query field 'cod'" in line


def test_make_generate_goes_through_say_deprecations(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = package_config(
        queries=project / "ops",
        package="pkg",
        target=project / "out",
        schema=project / "schema.graphql",
    )

    refused = say_deprecations(config, fail=True, prefix="generate")

    assert refused
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(LINE.removeprefix("ops"))
    assert err[1] == (
        "generate: the operations use 1 deprecated element (--fail-on-deprecated): nothing written"
    )
    make = subprocess.run(
        ["make", "-n", "generate", "FAIL_ON_DEPRECATED=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "tools/generate.py --fail-on-deprecated" in make.stdout
