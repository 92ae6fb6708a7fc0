"""tools/test_pythons.py (`make test-pythons`): which interpreters it finds, what it runs, and
when it fails.

The tool runs as a user runs it, in a scratch checkout whose PATH holds fake interpreters, a
fake pyenv and a fake make that records what it was asked and fails on demand: the real suite
on real interpreters is what the matrix itself does.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "test_pythons.py"


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def interpreter(path: Path, says: str) -> Path:
    """A fake Python that answers the tool's question ("which implementation and version?")."""
    return script(path, f'echo "{says}"\n')


class Machine:
    """A scratch checkout and a PATH holding only what each test puts on it (and sh's tools)."""

    def __init__(self, root: Path) -> None:
        self.checkout = root / "checkout"
        self.checkout.mkdir()
        self.bin = root / "bin"
        self.bin.mkdir()
        self.pyenv_root = root / "pyenv"
        self.pyenv_bin = self.bin  # where the fake pyenv goes: on PATH unless a test moves it
        self.calls = root / "make-calls"
        # No real pyenv or Python is in reach: not on PATH, nor where pyenv installs itself.
        self.env = {"PATH": str(self.bin), "HOME": str(root), "PYENV_ROOT": ""}
        # The fake make: records its arguments, then fails for the venvs listed in FAIL_FOR.
        self.make = script(
            root / "make",
            f'echo "$*" >> "{self.calls}"\n'
            'for arg in "$@"; do case " $FAIL_FOR " in *" $arg "*) exit 1;; esac; done\n',
        )

    def on_path(self, name: str, says: str) -> None:
        interpreter(self.bin / name, says)

    def under_pyenv(self, version: str, says: str) -> Path:
        """An install pyenv reports for `version` (`pyenv prefix 3.X`), as pyenv lays it out."""
        versions = self.pyenv_root / "versions"
        found = interpreter(versions / f"{version}.7" / "bin" / f"python{version}", says)
        installed = sorted(p.name.rsplit(".", 1)[0] for p in versions.iterdir())
        answers = "".join(f'  {v}) echo "{versions}/{v}.7";;\n' for v in installed)
        unknown = '  *) echo "pyenv: version not installed" >&2; exit 1;;\n'
        script(self.pyenv_bin / "pyenv", f'case "$2" in\n{answers}{unknown}esac\n')
        return found

    def run(self, *versions: str, fail_for: str = "", require_all: bool = False) -> Run:
        flags = ["--require-all"] if require_all else []
        done = subprocess.run(
            [sys.executable, str(TOOL), "--make", str(self.make), *flags, *versions],
            cwd=self.checkout,
            env={**self.env, "FAIL_FOR": fail_for},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        asked = self.calls.read_text(encoding="utf-8").splitlines() if self.calls.exists() else []
        return Run(done.returncode, done.stdout + done.stderr, asked)


class Run:
    def __init__(self, status: int, output: str, asked: list[str]) -> None:
        self.status, self.output, self.asked = status, output, asked

    def summary_line(self, version: str) -> str:
        tail = self.output.split("test-pythons:\n", 1)[1]
        [line] = [row for row in tail.splitlines() if row.split()[:1] == [version]]
        return line


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_each_version_found_runs_make_pytest_in_its_own_venv_with_that_interpreter(
    machine: Machine,
) -> None:
    pyenv_310 = machine.under_pyenv("3.10", "cpython 3.10")
    machine.on_path("python3.12", "cpython 3.12")

    run = machine.run("3.10", "3.12")

    assert run.status == 0, run.output
    assert run.asked == [
        f"--no-print-directory pytest VENV=.venv-3.10 PYTHON={pyenv_310}",
        f"--no-print-directory pytest VENV=.venv-3.12 PYTHON={machine.bin / 'python3.12'}",
    ]
    assert "passed" in run.summary_line("3.10")
    assert "passed" in run.summary_line("3.12")


def test_pyenv_comes_before_path_and_a_shim_that_cannot_run_the_version_is_not_found(
    machine: Machine,
) -> None:
    pyenv_311 = machine.under_pyenv("3.11", "cpython 3.11")
    machine.on_path("python3.11", "cpython 3.11")
    # pyenv's shim for a version that is installed but not selected: it exits 127.
    shim = 'echo "pyenv: python3.13: command not found" >&2\nexit 127\n'
    script(machine.bin / "python3.13", shim)

    run = machine.run("3.11", "3.13")

    assert run.asked == [f"--no-print-directory pytest VENV=.venv-3.11 PYTHON={pyenv_311}"]
    assert "CPython 3.13 not found; not tested" in run.output
    assert "not found" in run.summary_line("3.13")
    assert run.status == 0, "a missing version is named, not a failure, unless --require-all"


def test_pyenv_is_found_where_it_installs_itself_when_it_is_not_on_path(machine: Machine) -> None:
    machine.env["PYENV_ROOT"] = str(machine.pyenv_root)
    machine.pyenv_bin = machine.pyenv_root / "bin"
    pyenv_312 = machine.under_pyenv("3.12", "cpython 3.12")

    run = machine.run("3.12")

    assert run.asked == [f"--no-print-directory pytest VENV=.venv-3.12 PYTHON={pyenv_312}"]
    assert run.status == 0, run.output


@pytest.mark.parametrize(
    "says",
    ["cpython 3.11", "pypy 3.12", ""],
    ids=["another-version", "not-cpython", "says-nothing"],
)
def test_an_interpreter_that_is_not_cpython_of_that_version_is_not_used(
    machine: Machine, says: str
) -> None:
    machine.on_path("python3.12", says)

    run = machine.run("3.12")

    assert run.asked == []
    assert "not found" in run.summary_line("3.12")
    assert run.status == 1, "nothing was tested"


def test_a_failure_on_any_version_fails_the_run_after_every_version_has_run(
    machine: Machine,
) -> None:
    for version in ("3.10", "3.11", "3.12"):
        machine.on_path(f"python{version}", f"cpython {version}")

    run = machine.run("3.10", "3.11", "3.12", fail_for="VENV=.venv-3.11")

    assert run.status == 1
    assert len(run.asked) == 3, "the versions after the failure still ran"
    assert "FAILED" in run.summary_line("3.11")
    assert "passed" in run.summary_line("3.10")
    assert "passed" in run.summary_line("3.12")


def test_require_all_fails_when_a_version_is_missing(machine: Machine) -> None:
    machine.on_path("python3.10", "cpython 3.10")

    assert machine.run("3.10", "3.13", require_all=True).status == 1
    assert machine.run("3.10", require_all=True).status == 0


def test_a_venv_whose_interpreter_no_longer_runs_is_removed_before_it_is_used(
    machine: Machine,
) -> None:
    machine.on_path("python3.12", "cpython 3.12")
    stale = machine.checkout / ".venv-3.12"
    script(stale / "bin" / "python", "exit 127\n")  # its Python was uninstalled
    (stale / ".installed").touch()  # which make alone would still believe
    kept = machine.checkout / ".venv-3.13"
    interpreter(kept / "bin" / "python", "cpython 3.13")
    machine.on_path("python3.13", "cpython 3.13")

    run = machine.run("3.12", "3.13")

    assert run.status == 0, run.output
    assert not stale.exists()
    assert ".venv-3.12 no longer runs Python 3.12; recreating it" in run.output
    assert (kept / "bin" / "python").exists()


def test_the_makefile_runs_it_for_3_10_to_3_13_and_ci_requires_every_one() -> None:
    root = TOOL.parent.parent
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert "PYTHONS = 3.10 3.11 3.12 3.13" in makefile
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test-pythons" in ci
    assert "REQUIRE_ALL=1" in ci
    assert os.access(root / ".ci" / "run", os.X_OK)


@pytest.mark.parametrize(
    ("argument", "environment", "required"),
    [
        ("REQUIRE_ALL=1", None, True),
        (None, "1", True),  # a CI job's `env:`
        ("REQUIRE_ALL=0", None, False),
        (None, "0", False),
        (None, None, False),
    ],
)
def test_require_all_reaches_the_tool_from_the_command_line_or_the_environment(
    argument: str | None, environment: str | None, required: bool
) -> None:
    """A CI system that sets REQUIRE_ALL=1 as an environment variable must fail on a missing
    version as `make test-pythons REQUIRE_ALL=1` does, not pass without a word; 0 is off."""
    outer = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "REQUIRE_ALL")
    env = {k: v for k, v in os.environ.items() if k not in outer}
    if environment is not None:
        env["REQUIRE_ALL"] = environment
    # PYTHON=echo: the tool's command line is printed, not run (`make -n` would run it: its
    # recipe line is marked `+`).
    shown = subprocess.run(
        ["make", "--no-print-directory", "-s", "test-pythons", "PYTHON=echo"]
        + ([argument] if argument else []),
        cwd=TOOL.parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    flag = "--require-all " if required else ""
    assert shown.stdout.startswith(f"tools/test_pythons.py --make make {flag}3.10 "), shown.stdout
