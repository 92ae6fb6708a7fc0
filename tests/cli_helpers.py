"""Running `oeus-kraken` in tests: in this process (`cli` fixture) or as a real process
(`run_process`), always from a clean environment (no KRAKEN_* variables from the developer's
shell, the token cache in a temporary directory), and reading what it printed.

The CLI test modules import the fixtures from here (`from cli_helpers import cli, ...`).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from auth_helpers import FakeClock, Waits, record_waits

from oeus_kraken.cli import EXIT_CODES, main
from oeus_kraken.sandbox import SandboxServer

UNREACHABLE_URL = "http://127.0.0.1:9/v1/graphql/"  # the discard port: nothing listens there
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
MONEY = r"-?\$\d[\d,]*\.\d\d"
SANDBOX_URL = r"http://127\.0\.0\.1:\d+/v1/graphql/"


@dataclass(frozen=True)
class Run:
    code: int | str | None
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("KRAKEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the default usage store


@pytest.fixture
def sandbox_env(clean_env: None, monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer) -> None:
    """KRAKEN_URL names the sandbox; no credentials yet."""
    monkeypatch.setenv("KRAKEN_URL", sandbox.url)


@pytest.fixture
def instant_waits(monkeypatch: pytest.MonkeyPatch) -> Waits:
    """The client's waits between attempts (retries, Retry-After) recorded instead of slept, for
    in-process runs whose point is what the command says after them, not how long they took."""
    return record_waits(monkeypatch, FakeClock())


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Runs `oeus-kraken ARGS...` in this process."""

    def run(*argv: str) -> Run:
        out = io.StringIO()
        try:
            code: int | str | None = main(list(argv), out=out)
        except SystemExit as exit_:  # argparse: --help, usage errors
            code = exit_.code
        captured = capsys.readouterr()
        return Run(code, out.getvalue() + captured.out, captured.err)

    return run


def process_env(env: Mapping[str, str], tmp_path: Path) -> dict[str, str]:
    """This process's environment without KRAKEN_*, the caches under `tmp_path`, and `env`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    return environ | {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        **env,
    }


def run_process(*argv: str, env: Mapping[str, str], tmp_path: Path) -> Run:
    """Runs `python -m oeus_kraken ARGS...` with only `env` as its KRAKEN_* environment."""
    result = subprocess.run(
        [sys.executable, "-m", "oeus_kraken", *argv],
        env=process_env(env, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(result.returncode, result.stdout, result.stderr)


def run_into_full_disk(
    argv: list[str], env: Mapping[str, str], *, unbuffered: bool = False
) -> subprocess.CompletedProcess[str]:
    """`python -m oeus_kraken ARGV > /dev/full`: every write to stdout fails with ENOSPC, as on a
    disk that has filled up. stdout buffered, as a user's is (not PYTHONUNBUFFERED, which a CI
    shell may set): the failure then comes at a flush, after the rows went into the buffer.
    `unbuffered`: PYTHONUNBUFFERED=1 (as Docker images set it), so each write fails itself."""
    buffering = {"PYTHONUNBUFFERED": "1"} if unbuffered else {}
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "oeus_kraken", *argv],
            env={k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"} | buffering,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )


def assert_one_error_line(run: Run, command: str, code: str) -> str:
    """The failure contract: the exit code for its kind, one line on stderr, no traceback."""
    assert run.code == EXIT_CODES[code], run
    assert "Traceback" not in run.err
    [line] = run.err_lines
    assert line.startswith(f"oeus-kraken {command}: "), line
    return line


def table(output: str, header: tuple[str, ...]) -> list[str]:
    """The rows of the table in `output` with these column names, checking its layout: the header,
    a line of dashes under each column, then one line per row (up to a blank line or the end)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header[0]))
    head, rule = lines[start], lines[start + 1]
    assert set(rule) <= {"-", " "}, rule
    columns = [m.start() for m in re.finditer(r"-+", rule)]
    assert len(columns) == len(header), (head, rule)
    for column, name in zip(columns, header, strict=True):
        assert head[column:].startswith(name), (head, name)
    rows = []
    for line in lines[start + 2 :]:
        if not line or line.startswith("total "):
            break
        rows.append(line)
    return rows


Cli = Callable[..., Run]
