"""The `oeus-kraken` command's entry point: a Ctrl-C while the package is still loading ends like
any interrupted command (one line, exit status 130), not with Python's traceback."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ENTRY = Path(__file__).resolve().parents[1] / "entry" / "_oeus_kraken_cli.py"


def _entry_module() -> ModuleType:
    """The repository's entry module itself (an editable install holds a copy of it)."""
    spec = importlib.util.spec_from_file_location("_oeus_kraken_cli_under_test", ENTRY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_command_is_the_entry_module_outside_the_package() -> None:
    (script,) = [
        point
        for point in importlib.metadata.entry_points(group="console_scripts")
        if point.name == "oeus-kraken"
    ]
    assert script.value == "_oeus_kraken_cli:main"
    assert "." not in script.module  # imported without importing the oeus_kraken package first


class _InterruptedImport:
    """A Ctrl-C arriving while `oeus_kraken.cli` loads."""

    def find_spec(self, name: str, *_: object) -> None:
        if name == "oeus_kraken.cli":
            raise KeyboardInterrupt


def test_a_ctrl_c_while_the_package_loads_is_one_line_and_status_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = _entry_module()
    monkeypatch.delitem(sys.modules, "oeus_kraken.cli")
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(), *sys.meta_path])

    assert entry.main() == 130

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "oeus-kraken: interrupted (Ctrl-C) while starting\n"


# Run in a child: `oeus_kraken` takes 5 s to load, and says when it starts to.
_SLOW_START = f"""
import sys, time

class SlowImport:
    def find_spec(self, name, *_):
        if name == "oeus_kraken":
            print("loading", flush=True)
            time.sleep(5)

sys.meta_path.insert(0, SlowImport())
sys.path.insert(0, {str(ENTRY.parent)!r})
import _oeus_kraken_cli
sys.exit(_oeus_kraken_cli.main())
"""


def test_a_real_sigint_while_the_package_loads_leaves_no_traceback() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_START],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "loading\n"
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)

    assert child.returncode == 130
    assert err == "oeus-kraken: interrupted (Ctrl-C) while starting\n"
    assert out == ""


def test_without_an_interruption_the_entry_runs_the_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["oeus-kraken", "--version"])
    with pytest.raises(SystemExit) as exited:
        _entry_module().main()
    assert exited.value.code in (0, None)
    assert capsys.readouterr().out.startswith("oeus-kraken ")
