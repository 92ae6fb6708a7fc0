"""The typed client catches mistakes before anything runs.

A user's script that misspells a result field must fail `mypy --strict`, with an error naming the
field. The unchanged example must pass, so the failure is the misspelling's and nothing else's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "list_accounts.py"
FIELD_ACCESS = "account.balance"


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for this module's runs: the second run reuses the first's analysis of
    oeus_kraken, pydantic and httpx."""
    return tmp_path_factory.mktemp("mypy-cache")


def copy_example(tmp_path: Path, *, misspell: bool) -> Path:
    source = EXAMPLE.read_text(encoding="utf-8")
    assert source.count(FIELD_ACCESS) == 1, f"{EXAMPLE.name} should read {FIELD_ACCESS} once"
    if misspell:
        source = source.replace(FIELD_ACCESS, "account.balanse")
    script = tmp_path / "my_accounts.py"
    script.write_text(source, encoding="utf-8")
    return script


def run_mypy(script: Path, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(cache_dir),
            str(script),
        ],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_example_as_written_passes_mypy_strict(tmp_path: Path, mypy_cache: Path) -> None:
    result = run_mypy(copy_example(tmp_path, misspell=False), mypy_cache)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misspelt_result_field_fails_mypy_strict(tmp_path: Path, mypy_cache: Path) -> None:
    result = run_mypy(copy_example(tmp_path, misspell=True), mypy_cache)

    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors, result.stdout + result.stderr
    assert all("balanse" in line for line in errors), errors
    assert '"GetViewerViewerAccounts" has no attribute "balanse"' in errors[0]
