"""Run the test suite on every supported CPython this machine has, each in its own venv.

The package claims Python 3.10 to 3.13 (`requires-python` and the classifiers), so each of them
runs the suite, not only the default `python3`. This is what `make test-pythons` runs. For each
version it finds an interpreter (`pyenv prefix 3.X`, then `python3.X` on PATH; a pyenv shim that
cannot run that version does not count), then runs `make pytest VENV=.venv-3.X PYTHON=<it>`: the
venv is created and installed exactly as `make install` makes `.venv`, and only again when
pyproject.toml changes. The versions run one after another, so each gets every core.

Usage:
    python tools/test_pythons.py [--require-all] [--make MAKE] [VERSION ...]

PYTEST_ARGS reaches the suite through make (from `make test-pythons PYTEST_ARGS=...`, or from
the environment). A version that cannot be found is named, and fails the run under
--require-all (what CI uses). Exit 0 when every version found passed; 1 when one failed, when
none was found, or (--require-all) when one is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
# Prints "cpython 3.12": the implementation and the version an interpreter really is.
_IDENTIFY = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"


@dataclass(frozen=True)
class Outcome:
    """What happened to one version: its interpreter (None: not found), status and wall time."""

    version: str
    python: Path | None
    passed: bool
    seconds: float


def is_cpython(python: Path | str, version: str) -> bool:
    """True if `python` runs and is CPython `version` (a pyenv shim for another one is not)."""
    try:
        answer = subprocess.run(
            [str(python), "-c", _IDENTIFY], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return answer.returncode == 0 and answer.stdout.split() == ["cpython", version]


def candidates(version: str) -> list[Path]:
    """Where CPython `version` may be: pyenv's newest install of it, then PATH."""
    found: list[Path] = []
    pyenv = _pyenv()
    if pyenv is not None:
        prefix = subprocess.run(
            [pyenv, "prefix", version], capture_output=True, text=True, timeout=30
        )
        if prefix.returncode == 0 and prefix.stdout.strip():
            found.append(Path(prefix.stdout.strip().splitlines()[0]) / "bin" / f"python{version}")
    on_path = shutil.which(f"python{version}")
    if on_path is not None:
        found.append(Path(on_path))
    return found


def _pyenv() -> str | None:
    """pyenv on PATH, or where its installer puts it (a CI shell may not have it on PATH)."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installed = root / "bin" / "pyenv"
    return shutil.which("pyenv") or (str(installed) if os.access(installed, os.X_OK) else None)


def find_python(version: str) -> Path | None:
    """The first candidate that really is CPython `version`, or None."""
    return next((p for p in candidates(version) if is_cpython(p, version)), None)


def venv_for(version: str) -> Path:
    """The version's venv, in the checkout make runs in (the current directory)."""
    return Path.cwd() / f".venv-{version}"


def drop_stale_venv(version: str) -> None:
    """Remove a venv whose interpreter no longer runs (its Python was uninstalled or upgraded),
    which `make`, looking only at pyproject.toml's date, would otherwise keep using."""
    venv = venv_for(version)
    if venv.exists() and not is_cpython(venv / "bin" / "python", version):
        print(f"test-pythons: {venv.name} no longer runs Python {version}; recreating it")
        shutil.rmtree(venv)


def run_suite(version: str, python: Path, make: str) -> Outcome:
    drop_stale_venv(version)
    print(f"test-pythons: Python {version} ({python}) in {venv_for(version).name}", flush=True)
    started = time.monotonic()
    command = [make, "--no-print-directory", "pytest"]
    command += [f"VENV={venv_for(version).name}", f"PYTHON={python}"]
    status = subprocess.run(command).returncode
    return Outcome(version, python, status == 0, time.monotonic() - started)


def summary(outcomes: list[Outcome]) -> str:
    def line(o: Outcome) -> str:
        if o.python is None:
            return f"  {o.version}  not found (pyenv prefix {o.version}, python{o.version} on PATH)"
        verdict = "passed" if o.passed else "FAILED"
        return f"  {o.version}  {verdict}  {o.seconds:.0f} s  {o.python}"

    return "\n".join(["test-pythons:", *map(line, outcomes)])


def exit_status(outcomes: list[Outcome], *, require_all: bool) -> int:
    found = [o for o in outcomes if o.python is not None]
    if not found or not all(o.passed for o in found):
        return 1
    return 1 if require_all and len(found) < len(outcomes) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", default=list(SUPPORTED), metavar="VERSION")
    parser.add_argument("--require-all", action="store_true", help="a missing version fails")
    parser.add_argument("--make", default="make", help="the make to run (default: make)")
    args = parser.parse_args(argv)
    outcomes: list[Outcome] = []
    for version in args.versions:
        python = find_python(version)
        if python is None:
            print(f"test-pythons: CPython {version} not found; not tested", flush=True)
            outcomes.append(Outcome(version, None, passed=False, seconds=0.0))
        else:
            outcomes.append(run_suite(version, python, args.make))
    print(summary(outcomes))
    return exit_status(outcomes, require_all=args.require_all)


if __name__ == "__main__":
    sys.exit(main())
