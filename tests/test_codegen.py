"""Your own operations: write a `.graphql` file, run `oeus-kraken codegen`, use the typed client.

These tests do what the README's "Your own operations" section tells a user to do, in a temporary
folder: generate a package from two operations (one protected, one public), import it, call both
against the sandbox over loopback (the public one with no credentials), and type-check a script
that uses it with `mypy --strict`, where a misspelt field fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oeus_kraken import APIKey, AuthenticationError, KrakenError
from oeus_kraken.sandbox import DEMO_API_KEY, SandboxServer

ROOT = Path(__file__).resolve().parent.parent

PROTECTED = """\
# My accounts and their balances (cents): needs a token.
query myAccounts {
  viewer {
    email
    accounts {
      number
      balance
    }
  }
}
"""
PUBLIC = """\
# What is on offer: the API serves this without authentication.
query myProducts($prepay: Boolean) {
  products(prepay: $prepay) {
    code
    displayName
  }
}
"""

SCRIPT = """\
from my_kraken import KrakenClient, MyAccountsViewerAccounts, SyncKrakenClient

from oeus_kraken import APIKey


def balances(url: str, key: str) -> list[tuple[str | None, int]]:
    with SyncKrakenClient(url, credentials=APIKey(key)) as kraken:
        viewer = kraken.my_accounts().viewer
        accounts: list[MyAccountsViewerAccounts | None] = []
        if viewer is not None and viewer.accounts is not None:
            accounts = viewer.accounts
        return [(a.number, a.{balance}) for a in accounts if a is not None]


async def product_codes(url: str) -> list[str]:
    async with KrakenClient(url) as kraken:
        products = (await kraken.my_products(prepay=False)).products
        return [p.code for p in products or [] if p is not None and p.code is not None]
"""


def codegen(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`oeus-kraken codegen ...`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "oeus_kraken", "codegen", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's project: operations in ops/, the package generated into src/my_kraken."""
    folder = tmp_path_factory.mktemp("project")
    (folder / "ops").mkdir()
    (folder / "ops" / "accounts.graphql").write_text(PROTECTED)
    (folder / "ops" / "products.graphql").write_text(PUBLIC)
    run = codegen("--queries", "ops", "--package", "my_kraken", "--target", "src", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert "my_kraken" in run.stdout
    return folder


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


def test_the_package_has_both_clients_on_oeus_kraken_base_clients(my_kraken: Any) -> None:
    from oeus_kraken.base import AsyncKrakenBaseClient, KrakenBaseClient

    assert issubclass(my_kraken.KrakenClient, AsyncKrakenBaseClient)
    assert issubclass(my_kraken.SyncKrakenClient, KrakenBaseClient)
    # One set of models: both clients return instances of the same classes.
    assert my_kraken.MyAccounts.__module__ == "my_kraken.my_accounts"


def test_every_generated_file_says_do_not_edit_and_how_to_regenerate(project: Path) -> None:
    # The command's paths are relative to the target (src/), where it is to be run.
    for module in (project / "src" / "my_kraken").glob("*.py"):
        head = module.read_text().splitlines()[:2]
        assert "DO NOT EDIT" in head[0], module.name
        assert "oeus-kraken codegen --queries ../ops --package my_kraken --target ." in head[1]


def test_no_private_name_is_imported_by_generated_code(project: Path) -> None:
    for module in (project / "src" / "my_kraken").glob("*.py"):
        for line in module.read_text().splitlines():
            if line.startswith(("from oeus_kraken", "import oeus_kraken")):
                assert "._" not in line.split()[1], f"{module.name}: {line}"


def test_the_public_operation_is_inferred_and_the_protected_one_is_not(my_kraken: Any) -> None:
    assert my_kraken.KrakenClient.kraken_public_operations == frozenset({"myProducts"})
    assert my_kraken.SyncKrakenClient.kraken_public_operations == frozenset({"myProducts"})


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


async def test_the_async_client_works_against_the_sandbox(
    my_kraken: Any, sandbox: SandboxServer
) -> None:
    async with my_kraken.KrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken:
        result = await kraken.my_accounts()
        products = await kraken.my_products()
    assert result.viewer.email == "demo@example.com"
    assert products.products
    assert sandbox.stats.token_requests == 1  # the public call took no token


def test_a_model_mismatch_is_a_kraken_error_not_a_pydantic_one(
    my_kraken: Any, httpx_mock: Any
) -> None:
    httpx_mock.add_response(json={"data": {"products": [{"code": 7, "displayName": []}]}})
    with (
        my_kraken.SyncKrakenClient("https://kraken.example.test/graphql/") as kraken,
        pytest.raises(KrakenError, match="does not match the MyProducts model"),
    ):
        kraken.my_products()


def mypy(script: str, project: Path) -> subprocess.CompletedProcess[str]:
    (project / "use_it.py").write_text(script)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "use_it.py"],
        cwd=project,
        env={**os.environ, "MYPYPATH": str(project / "src")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_script_using_the_package_passes_mypy_strict_and_a_misspelt_field_fails(
    project: Path,
) -> None:
    good = mypy(SCRIPT.format(balance="balance"), project)
    assert good.returncode == 0, good.stdout + good.stderr

    bad = mypy(SCRIPT.format(balance="balanse"), project)
    assert bad.returncode == 1, bad.stdout
    assert '"MyAccountsViewerAccounts" has no attribute "balanse"' in bad.stdout


def test_the_same_inputs_give_the_same_bytes_and_check_shows_any_difference(
    project: Path,
) -> None:
    # --check regenerates from the same inputs into a scratch folder and compares every byte.
    package = project / "src" / "my_kraken"
    before = {p.name: p.read_bytes() for p in package.glob("*.py")}
    check = ("--queries", "ops", "--package", "my_kraken", "--target", "src", "--check")
    again = codegen(*check, cwd=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {p.name: p.read_bytes() for p in package.glob("*.py")} == before  # it writes nothing

    edited = package / "sync_client.py"
    edited.write_bytes(before["sync_client.py"].replace(b"def my_accounts", b"def my_acounts"))
    try:
        stale = codegen(*check, cwd=project)
    finally:
        edited.write_bytes(before["sync_client.py"])
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "sync_client.py" in stale.stdout + stale.stderr
    assert "my_acounts" in stale.stdout + stale.stderr


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("query broken { viewer { acounts { number } } }", "Cannot query field 'acounts'"),
        ("query broken { viewer { ", "Syntax Error"),
    ],
    ids=["unknown field", "invalid graphql"],
)
def test_a_bad_operation_is_one_line_naming_the_file_and_field_with_exit_2(
    tmp_path: Path, operation: str, expected: str
) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "good.graphql").write_text(PUBLIC)
    (tmp_path / "ops" / "bad.graphql").write_text(operation)
    run = codegen("--queries", "ops", "--package", "pkg", "--target", "out", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("oeus-kraken codegen: ops/bad.graphql:1:")
    assert expected in line
    assert not (tmp_path / "out" / "pkg").exists()  # nothing half-written


def test_inference_can_be_overridden_per_operation(tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "both.graphql").write_text(PROTECTED + PUBLIC)
    run = codegen(
        "--queries", "ops", "--package", "overridden", "--target", "out",
        "--authenticated", "myProducts", "--public", "myAccounts",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    client = (tmp_path / "out" / "overridden" / "sync_client.py").read_text()
    assert 'kraken_public_operations = frozenset({"myAccounts"})' in client


def test_print_config_gives_a_codegen_toml_naming_the_base_classes_and_plugins(
    tmp_path: Path,
) -> None:
    run = codegen(
        "--queries", "ops", "--package", "pkg", "--target", "out", "--print-config", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert 'base_client_name = "AsyncKrakenBaseClient"' in run.stdout
    assert "oeus_kraken.codegen.plugins.ResultParsingHookPlugin" in run.stdout
    assert "oeus_kraken.scalars.parse_decimal" in run.stdout


def test_a_package_name_that_is_not_an_identifier_is_refused(tmp_path: Path) -> None:
    run = codegen("--queries", "ops", "--package", "my-kraken", "--target", "out", cwd=tmp_path)
    assert run.returncode == 2
    assert "Python package name" in run.stderr


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
