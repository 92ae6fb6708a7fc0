"""What a user gets from `pip install oeus-kraken[...]`, one extra at a time, rather than from this
checkout's development venv (which installs every extra, and so pins graphql-core through the
codegen extra whatever the others allow)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from oeus_kraken._compat import toml_loads

ROOT = Path(__file__).resolve().parent.parent
PROJECT = toml_loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _requirements(extra: str, name: str) -> list[Requirement]:
    found = [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    return [r for r in found if r.name.lower().replace("_", "-") == name]


def test_the_sandbox_extra_alone_keeps_graphql_core_to_the_series_the_sandbox_runs_on() -> None:
    # ariadne alone allows graphql-core 3.3, under which the sandbox answered every usage query
    # with "dictionary update sequence element #0 has length 9; 2 is required".
    (graphql,) = _requirements("sandbox", "graphql-core")
    assert not graphql.specifier.contains("3.3.0")
    assert not graphql.specifier.contains("3.3.2")
    (pinned,) = _requirements("codegen", "graphql-core")  # both extras together still resolve
    (version,) = [s.version for s in pinned.specifier]
    assert graphql.specifier.contains(version)


# -- the wheel, installed -------------------------------------------------------------------------
# One venv for the module: the wheel built from this tree, installed with pip (no dependencies, no
# index), and this venv's site-packages appended as a plain path for them. That folder's .pth
# files are not read from there, so the editable install of the checkout is not on the path.

USER_SCRIPT = """\
import asyncio

from oeus_kraken import TEST_URL, APIKey, KrakenClient, OrganizationSecretKey

from my_kraken import SyncKrakenClient


async def main() -> None:
    async with KrakenClient(TEST_URL, credentials=OrganizationSecretKey("sk_x")) as kraken:
        account = (await kraken.get_account("A-1234ABCD")).account
        if account is not None:
            balance: int = account.balance
            print(account.number, account.status, balance)


with SyncKrakenClient(TEST_URL, credentials=APIKey("x")) as kraken:
    products = kraken.my_products(prepay=True).products
    print(products)
asyncio.run(main())
"""
MISTAKES = """\
from oeus_kraken import TEST_URL, APIKey

from my_kraken import SyncKrakenClient

with SyncKrakenClient(TEST_URL, credentials=APIKey("x")) as kraken:
    kraken.my_products(prepay="yes")
    kraken.my_products(timout=3)
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a venv holding the wheel as pip installs it."""
    root = tmp_path_factory.mktemp("installed")
    offline = ["--no-deps", "--no-index", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            *offline,
            "-w",
            str(root / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (root / "dist").glob("oeus_kraken-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=120)
    bin_ = root / "venv" / "bin"
    subprocess.run(
        [str(bin_ / "python"), "-m", "pip", "install", *offline, str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = subprocess.run(
        [str(bin_ / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_path("purelib")
    (Path(site) / "zz_dependencies.pth").write_text(ours + "\n", encoding="utf-8")
    return bin_


def _run(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRAKEN_", "PYTHON"))}
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_the_installed_package_runs_from_site_packages_as_module_and_script(
    installed: Path, tmp_path: Path
) -> None:
    where = _run(
        installed / "python", "-c", "import oeus_kraken; print(oeus_kraken.__file__)", cwd=tmp_path
    )
    assert where.stdout.startswith(str(installed.parent)), where
    for argv in ([installed / "oeus-kraken"], [installed / "python", "-m", "oeus_kraken"]):
        shown = _run(*argv, "--version", cwd=tmp_path)
        assert (shown.returncode, shown.stdout, shown.stderr) == (0, "oeus-kraken 0.1.0\n", "")


@pytest.mark.slow
def test_codegen_from_the_installed_package_and_a_users_code_pass_mypy_strict(
    installed: Path, tmp_path: Path
) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "products.graphql").write_text(
        "query myProducts($prepay: Boolean) { products(prepay: $prepay) { code displayName } }\n"
    )
    made = _run(
        installed / "oeus-kraken", "codegen", "--queries", "ops", "--package", "my_kraken",
        "--target", ".", cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr  # with the schema the wheel carries
    (tmp_path / "user.py").write_text(USER_SCRIPT)
    (tmp_path / "mistakes.py").write_text(MISTAKES)
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    mypy += ["--python-executable", str(installed / "python")]

    checked = _run(*mypy, "user.py", cwd=tmp_path)
    refused = _run(*mypy, "mistakes.py", cwd=tmp_path)

    assert checked.returncode == 0, checked.stdout
    assert refused.returncode == 1, refused.stdout
    assert 'Argument "prepay" to "my_products"' in refused.stdout
    assert 'Unexpected keyword argument "timout"' in refused.stdout
