"""What `pip install oeus-kraken` gets, and what a newcomer's first commands show.

The wheel is built once for this module from the working tree, offline (no build isolation: the
dev group installs hatchling), then read as a zip: its metadata (license, Python versions, URLs,
version, requirements) and its files (the schema once, both import packages, no tests). Building
takes a few seconds, so those tests are marked `slow`.
"""

from __future__ import annotations

import ast
import email.parser
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import oeus_kraken
from oeus_kraken._compat import packages_distributions, toml_loads

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = toml_loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DEV_TOOLS = {
    "ariadne-codegen",
    "gql",
    "graphql-core",
    "hatchling",
    "hypothesis",
    "mypy",
    "pytest",
    "pytest-asyncio",
    "pytest-httpx",
    "ruff",
    "tomli",
}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("oeus_kraken-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


@pytest.fixture(scope="module")
def metadata(wheel: zipfile.ZipFile) -> Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.parser.Parser().parsestr(wheel.read(name).decode())


# -- metadata -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_wheel_says_mit_and_carries_the_license_text(
    wheel: zipfile.ZipFile, metadata: Message
) -> None:
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    (license_file,) = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
    text = wheel.read(license_file).decode()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the oeus-kraken authors" in text
    assert text == (ROOT / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_wheel_names_its_authors_python_versions_and_project_urls(metadata: Message) -> None:
    assert metadata["Author"] == "the oeus-kraken authors"
    classifiers = metadata.get_all("Classifier") or []
    versions = sorted(c.rsplit(" :: ", 1)[1] for c in classifiers if re.search(r":: 3\.\d+$", c))
    assert versions == ["3.10", "3.11", "3.12", "3.13"]
    assert metadata["Requires-Python"] == ">=3.10"
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert set(urls) >= {"Homepage", "Source", "Issues"}
    assert all(url.startswith("https://") for url in urls.values())


@pytest.mark.slow
def test_the_wheel_version_is_oeus_kraken_dunder_version(metadata: Message) -> None:
    assert metadata["Version"] == oeus_kraken.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", oeus_kraken.__version__)
    # And the installed (editable) distribution agrees: one source, not two numbers.
    assert importlib.metadata.version("oeus-kraken") == oeus_kraken.__version__


@pytest.mark.slow
def test_the_wheel_requires_no_development_tools(metadata: Message) -> None:
    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist") or []]

    # Test and lint tools are never published; the code generator is, but only as the
    # `codegen` extra that `oeus-kraken codegen` needs. graphql-core, which the sandbox runs on
    # too, is also the sandbox's (held to the 3.2 series there).
    codegen = {"ariadne-codegen", "graphql-core", "importlib-metadata", "ruff", "toml", "tomli"}
    outside_codegen = [r for r in requirements if "codegen" not in str(r.marker or "")]
    sandbox_engine = [
        r for r in outside_codegen if "sandbox" in str(r.marker) and r.name == "graphql-core"
    ]
    assert len(sandbox_engine) == 1
    outside_codegen = [r for r in outside_codegen if r not in sandbox_engine]
    assert {normalized(r.name) for r in outside_codegen} & DEV_TOOLS == set()
    in_codegen = {normalized(r.name) for r in requirements if "codegen" in str(r.marker or "")}
    assert in_codegen == codegen
    # No [dev] extra any more: the development tools are a dependency group.
    assert sorted(metadata.get_all("Provides-Extra") or []) == [
        "chart",
        "codegen",
        "parquet",
        "sandbox",
    ]
    assert {normalized(r.name) for r in requirements if r.marker is None} == {
        "filelock",
        "httpx",
        "platformdirs",
        "pydantic",
        "pyjwt",
        "tqdm",
        "typing-extensions",
    }


# -- files --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_wheel_carries_the_schema_and_our_operations_exactly_once_beside_their_accessor(
    wheel: zipfile.ZipFile,
) -> None:
    files = [n for n in wheel.namelist() if n.endswith(".graphql")]
    operations = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "queries").rglob("*"))

    assert sorted(files) == sorted(
        ["oeus_kraken/_resources/schema.graphql"]
        + [f"oeus_kraken/_resources/{name}" for name in operations]
    )
    assert "oeus_kraken/_resources/__init__.py" in wheel.namelist()
    for name in files:
        original = ROOT / name.removeprefix("oeus_kraken/_resources/")
        assert wheel.read(name) == original.read_bytes()


@pytest.mark.slow
def test_the_wheel_carries_both_import_packages_and_no_tests_or_tools(
    wheel: zipfile.ZipFile,
) -> None:
    names = wheel.namelist()
    packages = {n.split("/", 1)[0] for n in names if "/" in n and ".dist-info/" not in n}

    assert packages == {"oeus_kraken", "oeus_kraken_generated"}
    for module in ("__init__.py", "async_client.py", "sync_client.py", "py.typed"):
        assert f"oeus_kraken_generated/{module}" in names
    assert "oeus_kraken/py.typed" in names
    assert not [n for n in names if re.search(r"(^|/)(tests?|conftest|test_[^/]*)(/|\.py$)", n)]


@pytest.mark.slow
def test_an_installed_wheel_finds_the_schema_inside_itself(
    wheel: zipfile.ZipFile, tmp_path: Path
) -> None:
    unpacked = tmp_path / "site"
    wheel.extractall(unpacked)
    code = (
        "import oeus_kraken, oeus_kraken._resources, oeus_kraken.sandbox\n"
        "print(oeus_kraken.__file__)\n"
        "print(oeus_kraken._resources.schema_path())\n"
        "print(oeus_kraken.sandbox.schema_path())\n"
        "print(oeus_kraken._resources.queries_path())\n"
    )
    # PYTHONPATH comes before the editable install's path entry, so the wheel's copy is imported.
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    package_file, resource_schema, sandbox_schema, queries = result.stdout.splitlines()
    assert package_file == str(unpacked / "oeus_kraken" / "__init__.py")
    expected = unpacked / "oeus_kraken" / "_resources" / "schema.graphql"
    assert resource_schema == sandbox_schema == str(expected)
    assert queries == str(unpacked / "oeus_kraken" / "_resources" / "queries")


def test_a_checkout_reads_the_repository_schema_and_operations() -> None:
    from oeus_kraken._resources import queries_path, schema_path

    assert schema_path() == ROOT / "schema.graphql"
    assert queries_path() == ROOT / "queries"


# -- declared dependencies ----------------------------------------------------------------------


def _declared() -> set[str]:
    project = PYPROJECT["project"]
    requirements = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
        *(r for group in PYPROJECT["dependency-groups"].values() for r in group),
    ]
    return {normalized(Requirement(r).name) for r in requirements}


def _imported_top_level_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.slow
@pytest.mark.parametrize(
    "script",
    sorted([*(ROOT / "tools").glob("*.py"), *(ROOT / "bench").glob("*.py")]),
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_every_import_of_the_tools_is_the_standard_library_ours_or_a_declared_dependency(
    script: Path,
) -> None:
    ours = {"oeus_kraken", "oeus_kraken_generated"} | {p.stem for p in script.parent.glob("*.py")}
    distributions = packages_distributions()
    declared = _declared()
    undeclared = {}
    for module in _imported_top_level_modules(script) - ours - set(sys.stdlib_module_names):
        # A module not installed here (tomli on 3.11) is named as its own distribution.
        providers = {normalized(d) for d in distributions.get(module, [module])}
        if not providers & declared:
            undeclared[module] = sorted(providers)
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


# -- the Makefile -------------------------------------------------------------------------------


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    assert {"help", "test", "demo", "install"} <= targets  # the pattern still finds them

    shown = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout

    listed = set(re.findall(r"^make ([a-z][a-z-]*)", shown, flags=re.MULTILINE))
    assert targets - listed == set(), "targets missing from `make help`"
    assert listed - targets == set(), "`make help` lists targets the Makefile lacks"


def test_every_make_target_the_readme_names_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"(?:`|^)make ([a-z][a-z-]*)", readme, flags=re.MULTILINE))

    assert {"demo", "test", "test-fast", "generate", "check-generated"} <= named
    assert named - targets == set(), "the README names targets the Makefile lacks"


def _checkout_with_a_venv(root: Path, python: str) -> Path:
    """The Makefile and pyproject.toml, and a .venv that `make install` made (`.installed` newer
    than pyproject.toml) whose bin/python is `python`: a script, or a link to nothing."""
    root.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        (root / name).write_bytes((ROOT / name).read_bytes())
    venv_python = root / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    if python:
        venv_python.write_text(f"#!/bin/sh\n{python}\n", encoding="utf-8")
        venv_python.chmod(0o755)
    else:
        venv_python.symlink_to(root / "uninstalled" / "python3.11")
    (root / ".venv" / ".installed").write_text(f"python3 in {root}\n", encoding="utf-8")
    return root


def _make(root: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    # As from a shell: not a sub-make of `make test` (whose MAKELEVEL makes its lines "make[1]:"),
    # nor of `make test-pythons` (whose PYTHON=... and VENV=... reach the environment).
    outer = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON", "VENV", "PYTEST_ARGS", "REQUIRE_ALL")
    env = {k: v for k, v in os.environ.items() if k not in outer} | {
        "PATH": path or os.environ["PATH"]
    }
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_install_makes_the_venv_again_when_its_python_is_gone(tmp_path: Path) -> None:
    root = _checkout_with_a_venv(tmp_path / "odd dir ü", python="")  # its Python uninstalled

    shown = _make(root, "-n", "install").stdout

    assert "-m venv --clear .venv" in shown, shown
    intact = _checkout_with_a_venv(tmp_path / "intact", python="exit 0")
    assert "Nothing to be done" in _make(intact, "install").stdout
    (intact / ".venv" / ".installed").write_text("python3 in /a/moved/clone\n", encoding="utf-8")
    assert "-m venv --clear .venv" in _make(intact, "-n", "install").stdout


def test_make_install_with_a_python_that_does_not_run_says_so_in_one_line(tmp_path: Path) -> None:
    root = _checkout_with_a_venv(tmp_path / "checkout", python="")

    done = _make(root, "install", f"PYTHON={tmp_path / 'no-such-python3'}")

    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]
    assert len(lines) == 1, done.stderr
    (said,) = lines
    assert "does not run a Python 3.10 or newer" in said
    assert "make install PYTHON=/path/to/python3.X" in said
    assert (root / ".venv" / ".installed").exists(), "nothing was removed"


def test_make_pytest_once_installed_needs_no_python3_on_path(tmp_path: Path) -> None:
    root = _checkout_with_a_venv(tmp_path / "checkout", python='echo 3; echo "$@" >&2')
    bare = tmp_path / "bin"  # a PATH with make and cat, and no python3
    bare.mkdir()
    for tool in ("make", "cat"):
        found = shutil.which(tool)
        assert found is not None
        (bare / tool).symlink_to(found)

    shown = _make(root, "-n", "pytest", path=str(bare)).stdout

    assert " -n 3 --dist worksteal" in shown, shown


def test_make_clean_removes_the_venvs_it_made_and_nothing_named_like_them(tmp_path: Path) -> None:
    root = _checkout_with_a_venv(tmp_path / "checkout", python="exit 0")
    made = [".venv", ".venv-3.10", ".venv-3.13", ".mypy_cache"]
    mine = [".venv-3.12-mine", ".venv-3.11.7"]  # a user's own venvs
    for name in made + mine:
        (root / name / "bin").mkdir(parents=True, exist_ok=True)

    done = _make(root, "clean")

    assert done.returncode == 0, done.stderr
    assert [name for name in made if (root / name).exists()] == []
    assert [name for name in mine if not (root / name / "bin").exists()] == []


def test_make_clean_removes_the_caches_the_test_targets_made_and_leaves_the_users_files(
    tmp_path: Path,
) -> None:
    root = _checkout_with_a_venv(tmp_path / "checkout", python="exit 0")
    # `make test` writes byte code (its targets turn it on) and hypothesis's example database.
    made = [".hypothesis", "oeus_kraken/cli/__pycache__", "tests/__pycache__"]
    mine = ["notes/__pycache__", "bench/results.json", "oeus_kraken/cli/_main.py"]
    for folder in [*made, "notes/__pycache__"]:
        (root / folder).mkdir(parents=True)
        (root / folder / "x.pyc").write_bytes(b"x")
    for name in mine[1:]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x\n", encoding="utf-8")

    done = _make(root, "clean")

    assert done.returncode == 0, done.stderr
    assert [name for name in made if (root / name).exists()] == []
    assert [name for name in mine if not (root / name).exists()] == []
