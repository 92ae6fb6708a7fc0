"""Your own operations: write a `.graphql` file, run `oeus-kraken codegen`, use the typed client.

These tests do what the README's "Your own operations" section tells a user to do: generate a
package from two operations (one protected, one public) with the schema oeus-kraken ships
(`codegen_project`, once per test run), import it, call both against the sandbox over loopback
(the public one with no credentials), and type-check a script that uses it with `mypy --strict`,
where a misspelt field fails. The command's other outcomes run against the small schema, in this
process (codegen_helpers).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from codegen_helpers import PROTECTED, PUBLIC, codegen_here, write_small_schema

from oeus_kraken import APIKey, AuthenticationError, KrakenError
from oeus_kraken.sandbox import DEMO_API_KEY, SandboxServer

ROOT = Path(__file__).resolve().parent.parent
# Tests of the package generated with the full schema: the first to run pays for that (seconds).
SLOW = pytest.mark.slow


@pytest.fixture(scope="module")
def project(codegen_project: Path) -> Path:
    return codegen_project


@pytest.fixture(scope="module")
def my_kraken(project: Path) -> Iterator[Any]:
    sys.path.insert(0, str(project / "src"))
    try:
        import my_kraken  # type: ignore[import-not-found]

        yield my_kraken
    finally:
        sys.path.remove(str(project / "src"))
        for name in [n for n in sys.modules if n == "my_kraken" or n.startswith("my_kraken.")]:
            del sys.modules[name]


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    """A project folder with the small schema (small.graphql) and an empty ops/."""
    write_small_schema(tmp_path)
    (tmp_path / "ops").mkdir()
    return tmp_path


@SLOW
def test_the_package_has_both_clients_on_oeus_kraken_base_clients(my_kraken: Any) -> None:
    from oeus_kraken.base import AsyncKrakenBaseClient, KrakenBaseClient

    assert issubclass(my_kraken.KrakenClient, AsyncKrakenBaseClient)
    assert issubclass(my_kraken.SyncKrakenClient, KrakenBaseClient)
    # One set of models: both clients return instances of the same classes.
    assert my_kraken.MyAccounts.__module__ == "my_kraken.my_accounts"


@SLOW
def test_every_generated_file_says_do_not_edit_and_how_to_regenerate(project: Path) -> None:
    # The command's paths are relative to the target (src/), where it is to be run.
    for module in (project / "src" / "my_kraken").glob("*.py"):
        head = module.read_text().splitlines()[:2]
        assert "DO NOT EDIT" in head[0], module.name
        assert "oeus-kraken codegen --queries ../ops --package my_kraken --target ." in head[1]


@SLOW
def test_no_private_name_is_imported_by_generated_code(project: Path) -> None:
    for module in (project / "src" / "my_kraken").glob("*.py"):
        for line in module.read_text().splitlines():
            if line.startswith(("from oeus_kraken", "import oeus_kraken")):
                assert "._" not in line.split()[1], f"{module.name}: {line}"


@pytest.mark.parametrize("ruff", [["check"], ["format", "--check", "--diff"]], ids=str)
def test_the_generated_package_is_clean_under_ruff_with_its_default_settings(
    small_codegen_project: Path, ruff: list[str]
) -> None:
    # A user's project lints its src/ as it is: the package in it must not be what fails.
    package = small_codegen_project / "src" / "my_kraken"
    command = [str(Path(sys.executable).parent / "ruff"), *ruff, "--isolated", str(package)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


@SLOW
def test_the_public_operation_is_inferred_and_the_protected_one_is_not(my_kraken: Any) -> None:
    assert my_kraken.KrakenClient.kraken_public_operations == frozenset({"myProducts"})
    assert my_kraken.SyncKrakenClient.kraken_public_operations == frozenset({"myProducts"})


@SLOW
def test_both_operations_work_against_the_sandbox_the_public_one_without_credentials(
    my_kraken: Any, sandbox: SandboxServer
) -> None:
    with my_kraken.SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken:
        viewer = kraken.my_accounts().viewer
    assert viewer.email == "demo@example.com"
    assert all(isinstance(a.balance, int) for a in viewer.accounts)

    with my_kraken.SyncKrakenClient(sandbox.url) as anonymous:
        products = anonymous.my_products(prepay=False).products
        assert products
        with pytest.raises(AuthenticationError, match="no credentials"):
            anonymous.my_accounts()
    assert sandbox.stats.token_requests == 1


@SLOW
async def test_the_async_client_works_against_the_sandbox(
    my_kraken: Any, sandbox: SandboxServer
) -> None:
    async with my_kraken.KrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken:
        result = await kraken.my_accounts()
        products = await kraken.my_products()
    assert result.viewer.email == "demo@example.com"
    assert products.products
    assert sandbox.stats.token_requests == 1  # the public call took no token


@SLOW
def test_a_model_mismatch_is_a_kraken_error_not_a_pydantic_one(
    my_kraken: Any, httpx_mock: Any
) -> None:
    httpx_mock.add_response(json={"data": {"products": [{"code": 7, "displayName": []}]}})
    with (
        my_kraken.SyncKrakenClient("https://kraken.example.test/graphql/") as kraken,
        pytest.raises(KrakenError, match="does not match the MyProducts model"),
    ):
        kraken.my_products()


@SLOW  # mypy, once per test run
def test_a_script_using_the_package_passes_mypy_strict_and_a_misspelt_field_fails(
    mypy_errors: dict[str, list[str]],
) -> None:
    assert mypy_errors["use_my_kraken.py"] == []
    [error] = mypy_errors["use_my_kraken_misspelt.py"]
    assert '"MyAccountsViewerAccounts" has no attribute "balanse"' in error


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("query broken { viewer { acounts { number } } }", "Cannot query field 'acounts'"),
        ("query broken { viewer { ", "Syntax Error"),
    ],
    ids=["unknown field", "invalid graphql"],
)
def test_a_bad_operation_is_one_line_naming_the_file_and_field_with_exit_2(
    small_project: Path, operation: str, expected: str
) -> None:
    (small_project / "ops" / "good.graphql").write_text(PUBLIC)
    (small_project / "ops" / "bad.graphql").write_text(operation)
    run = codegen_here(
        "--queries", "ops", "--package", "pkg", "--target", "out", "--schema", "small.graphql",
        cwd=small_project,
    )  # fmt: skip
    assert run.code == 2
    assert run.out == ""
    [line] = run.err_lines
    assert line.startswith("oeus-kraken codegen: ops/bad.graphql:1:")
    assert expected in line
    assert not (small_project / "out" / "pkg").exists()  # nothing half-written


def test_inference_can_be_overridden_per_operation(small_project: Path) -> None:
    (small_project / "ops" / "both.graphql").write_text(PROTECTED + PUBLIC)
    run = codegen_here(
        "--queries", "ops", "--package", "overridden", "--target", "out",
        "--schema", "small.graphql", "--authenticated", "myProducts", "--public", "myAccounts",
        cwd=small_project,
    )  # fmt: skip
    assert run.code == 0, run.err
    client = (small_project / "out" / "overridden" / "sync_client.py").read_text()
    assert 'kraken_public_operations = frozenset({"myAccounts"})' in client


def test_print_config_gives_a_codegen_toml_naming_the_base_classes_and_plugins(
    tmp_path: Path,
) -> None:
    run = codegen_here(
        "--queries", "ops", "--package", "pkg", "--target", "out", "--print-config", cwd=tmp_path
    )
    assert run.code == 0, run.err
    assert 'base_client_name = "AsyncKrakenBaseClient"' in run.out
    assert "oeus_kraken.codegen.plugins.ResultParsingHookPlugin" in run.out
    assert "oeus_kraken.scalars.parse_decimal" in run.out


def test_the_packages_own_client_is_generated_by_the_same_path() -> None:
    """Our codegen.toml names only paths; base classes and plugins come from the same standard
    settings a user's package gets."""
    from oeus_kraken.codegen import STANDARD_SETTINGS, load_config

    config = load_config(ROOT / "codegen.toml")["tool"]["ariadne-codegen"]
    for key, value in STANDARD_SETTINGS.items():
        assert config[key] == value, key
    generated = ROOT / "generated" / "oeus_kraken_generated" / "async_client.py"
    assert "class KrakenClient(AsyncKrakenBaseClient):" in generated.read_text()


def test_usage_text_explains_the_command() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "oeus_kraken", "codegen", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0
    assert textwrap.dedent("--queries DIR").strip() in run.stdout
    assert "pip install 'oeus-kraken[codegen]'" in run.stdout
