""".ci/run, the CI entry point: `make test`, then the matrix, and a failure in either fails it.

Run with a `make` of the test's own on PATH, which records what it was asked and fails where
told: the script's logic, without the ten minutes of the real targets.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FAKE_MAKE = """#!/bin/sh
echo "$*" >> "$MADE"
case "$1" in ("$FAIL") exit 2;; esac
exit 0
"""


@pytest.mark.parametrize(
    ("failing", "status"),
    [("test", 1), ("test-pythons", 1), ("nothing", 0)],
    ids=["make test fails", "the matrix fails", "both pass"],
)
def test_ci_fails_when_make_test_or_the_matrix_fails_and_runs_both(
    tmp_path: Path, failing: str, status: int
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "run", checkout / ".ci" / "run")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "make").write_text(FAKE_MAKE, encoding="utf-8")
    (tools / "make").chmod(0o755)
    made = tmp_path / "made"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")} | {
        "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}",
        "MADE": str(made),
        "FAIL": failing,
    }

    done = subprocess.run(
        [str(checkout / ".ci" / "run")], cwd=tmp_path, env=env, timeout=60, check=False
    )

    assert done.returncode == status
    assert made.read_text(encoding="utf-8").splitlines() == [
        "test",
        'test-pythons PYTEST_ARGS=-m "not slow" REQUIRE_ALL=1',
    ]
