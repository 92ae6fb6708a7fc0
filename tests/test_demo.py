"""`make demo` prints commands you can copy, and the examples work against the sandbox.

Every step of the demo shows the whole command it runs: the environment it needs (KRAKEN_URL,
the demo credential) and the console script or interpreter, as a path that works from the
repository root. The proof is a copy: after the demo, with a sandbox of one's own on the same
port, each printed line pasted into a shell does what it did in the demo.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import process_env
from conftest import built_once

from oeus_kraken.sandbox import DEMO_ORGANIZATION_SECRET_KEY, SandboxServer

ROOT = Path(__file__).resolve().parent.parent
ESI_ID = "10443720004512388"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def steps(output: str) -> list[tuple[str, str]]:
    """(command line, what it printed) for each `$ ...` line of the demo's output."""
    found = []
    for block in output.split("\n=== ")[1:]:
        lines = block.splitlines()[1:]  # after the step's title
        for n, line in enumerate(lines):
            if line.startswith("$ "):
                printed = []
                for following in lines[n + 1 :]:
                    if following.startswith("$ "):
                        break
                    printed.append(following)
                found.append((line[2:], "\n".join(printed).strip()))
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    """The demo's port and what it printed: run once per test run (it takes seconds), whichever
    workers run this module's tests."""

    def run_the_demo(folder: Path) -> None:
        port = free_port()
        # Its temporary folders, the page's included, in the test run's: the system's would
        # keep one page folder (the demo leaves it for the user to open) per `make test`.
        (folder / "tmp").mkdir()
        result = subprocess.run(
            [sys.executable, "tools/demo.py", "--port", str(port)],
            cwd=ROOT,
            env=process_env({"TMPDIR": str(folder / "tmp")}, folder),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        done = [port, result.returncode, result.stdout, result.stderr]
        (folder / "demo.json").write_text(json.dumps(done))

    folder = built_once(tmp_path_factory, "demo", run_the_demo)
    port, code, out, err = json.loads((folder / "demo.json").read_text())
    assert code == 0, out[-3000:] + err
    assert "Traceback" not in err
    return port, out


@pytest.fixture(scope="module")
def demo_tmp(demo: tuple[int, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder the demo was given (TMPDIR), inside the test run's."""
    return built_once(tmp_path_factory, "demo", lambda folder: None) / "tmp"  # built by `demo`


@pytest.mark.slow
def test_every_step_shows_the_full_command_with_its_environment(demo: tuple[int, str]) -> None:
    port, output = demo
    commands = steps(output)

    assert len(commands) >= 10
    url = f"http://127.0.0.1:{port}/v1/graphql/"
    for line, _ in commands:
        words = shlex.split(line)
        assert words[:2] == [
            f"KRAKEN_URL={url}",
            f"KRAKEN_ORGANIZATION_SECRET_KEY={DEMO_ORGANIZATION_SECRET_KEY}",
        ], line
        program = ROOT / words[2]
        assert program.exists(), line  # a path that works from the repository root
        assert os.access(program, os.X_OK), line
    shown = " ".join(line for line, _ in commands)
    for wanted in (
        "oeus-kraken token",
        "oeus-kraken usage A-5F3C9D21 --from 2026-10-15 --to 2026-10-15 --interval hour",
        f"oeus-kraken esi {ESI_ID}",
        f"oeus-kraken rates --esi-id {ESI_ID}",
        f"oeus-kraken quote --esi-id {ESI_ID}",
        "examples/usage_month_to_csv.py",
        "examples/compare_rates_for_esi_id.py",
    ):
        assert wanted in shown, wanted


@pytest.mark.slow
def test_the_demo_shows_a_day_of_96_intervals_summed_per_hour(demo: tuple[int, str]) -> None:
    _, output = demo
    [(_, printed)] = [step for step in steps(output) if "--interval hour" in step[0]]
    assert len(re.findall(r"^2026-10-15 \d\d:00 CDT .* 4 +4$", printed, re.MULTILINE)) == 24
    assert printed.splitlines()[-1].endswith("in 96 of 96 intervals")


@pytest.mark.slow
def test_a_copied_command_does_what_it_did_in_the_demo(
    demo: tuple[int, str], tmp_path: Path
) -> None:
    port, output = demo
    environ = process_env({}, tmp_path)  # no KRAKEN_*: only what the line itself sets
    repeatable = (
        "oeus-kraken account",
        "oeus-kraken usage A-",
        "oeus-kraken esi",
        "oeus-kraken rates",
        "compare_rates",
    )
    copied = [
        (line, printed) for line, printed in steps(output) if any(r in line for r in repeatable)
    ]
    assert len(copied) == 5
    with SandboxServer(port=port):
        for line, printed in copied:
            result = subprocess.run(
                ["sh", "-c", line],
                cwd=ROOT,
                env=environ,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, (line, result.stderr)
            assert result.stdout.strip() == printed, line


@pytest.mark.slow
def test_the_month_to_csv_example_writes_every_interval_of_the_month_to_an_owner_only_file(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    out = tmp_path / "october.csv"
    env = process_env(
        {"KRAKEN_URL": sandbox.url, "KRAKEN_ORGANIZATION_SECRET_KEY": DEMO_ORGANIZATION_SECRET_KEY},
        tmp_path,
    )
    result = subprocess.run(
        [sys.executable, "examples/usage_month_to_csv.py", "A-5F3C9D21", "2026-10", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 31 * 96  # October 2026, the whole of it: no DST change, all delivered
    assert rows[0]["start_texas"] == "2026-10-01T00:00:00-05:00"
    assert rows[-1]["end_texas"] == "2026-11-01T00:00:00-05:00"
    assert result.stdout.startswith(f"wrote {len(rows)} intervals (")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # usage shows when someone is home


@pytest.mark.slow
def test_the_compare_rates_example_lists_every_product_cheapest_first(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = process_env({"KRAKEN_URL": sandbox.url}, tmp_path)  # public: no credentials
    result = subprocess.run(
        [sys.executable, "examples/compare_rates_for_esi_id.py", ESI_ID, "1500"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    heading, *lines = result.stdout.splitlines()
    assert heading == f"ESI ID {ESI_ID} (ONCOR), 1,500 kWh a month, cheapest first:"
    months = [
        float(re.match(r"\s*\$([\d,]+\.\d\d) a month", line)[1].replace(",", "")) for line in lines
    ]  # type: ignore[index]
    assert len(months) == 6
    assert months == sorted(months)
    assert lines[0].endswith("(cheapest)")
    assert sandbox.stats.token_requests == 0


@pytest.mark.parametrize(
    ("example", "args"),
    [
        ("usage_month_to_csv.py", ["A-5F3C9D21", "October"]),
        ("compare_rates_for_esi_id.py", [ESI_ID, "lots"]),
    ],
)
def test_the_examples_say_what_they_take(tmp_path: Path, example: str, args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, f"examples/{example}", *args],
        cwd=ROOT,
        env=process_env({}, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{args[-1]!r} is not" in result.stderr


@pytest.mark.slow
def test_the_demo_ends_with_a_comparison_its_table_and_its_page(
    demo: tuple[int, str], demo_tmp: Path
) -> None:
    _, output = demo
    last_step = output.split("\n=== ")[-1]
    [(line, printed)] = steps("\n=== " + last_step)
    assert "oeus-kraken compare A-5F3C9D21 --from " in line
    assert "--sync --html " in line
    rows = [r for r in printed.splitlines() if re.match(r"\d+ +\S", r)]
    assert len(rows) == 6  # every product on offer, ranked
    assert any(r.endswith("current product") for r in rows)
    page = re.search(r"^HTML page: (\S+)$", printed, re.MULTILINE)
    assert page is not None
    assert Path(page[1]).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # In a folder the demo made for it, the user's alone: a fixed name in /tmp could be another
    # user's symlink to a file of ours, which the page would replace.
    folder = Path(page[1]).parent
    assert folder.parent == demo_tmp  # TMPDIR: the system's temporary folder for a user
    assert not folder.is_symlink()
    assert folder.stat().st_uid == os.getuid()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert output.rstrip().endswith("Demo finished; sandbox stopped.")
