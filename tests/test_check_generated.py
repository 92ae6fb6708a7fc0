"""`make check-generated` (tools/generate.py --check) regenerates only when something changed.

A passing check stamps a hash of every byte its verdict depends on; the next check with the same
hash passes without regenerating. These tests prove the hash moves with each input, and that a
stamp never hides a change: a stale package is found again once anything differs.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from oeus_kraken.codegen import package_config

ROOT = Path(__file__).resolve().parent.parent


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_tool", ROOT / "tools" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture
def project(small_codegen_project: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(small_codegen_project, tmp_path / "project", symlinks=True))


def config_of(project: Path) -> dict[str, Any]:
    return package_config(
        queries=project / "ops",
        package="my_kraken",
        target=project / "src",
        schema=project / "small.graphql",
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "change",
    [
        lambda p: p / "small.graphql",
        lambda p: p / "ops" / "viewer.graphql",
        lambda p: p / "src" / "my_kraken" / "enums.py",
        lambda p: p / "src" / "my_kraken" / "codegen-manifest.json",
    ],
    ids=["the schema", "an operation", "a generated module", "the manifest"],
)
def test_the_hash_changes_with_each_input_and_output(project: Path, change: Any) -> None:
    before = tool.inputs_digest(config_of(project))
    assert tool.inputs_digest(config_of(project)) == before  # the same bytes, the same hash
    path = change(project)
    path.write_bytes(path.read_bytes() + b"\n")
    assert tool.inputs_digest(config_of(project)) != before


def test_a_file_added_to_the_package_changes_the_hash_and_byte_code_does_not(
    project: Path,
) -> None:
    config = config_of(project)
    before = tool.inputs_digest(config)
    (project / "src" / "my_kraken" / "__pycache__").mkdir(exist_ok=True)
    (project / "src" / "my_kraken" / "__pycache__" / "enums.cpython-311.pyc").write_bytes(b"x")
    assert tool.inputs_digest(config) == before
    (project / "src" / "my_kraken" / "extra").mkdir()
    assert tool.inputs_digest(config) != before


def test_the_hash_covers_the_code_that_generates_and_the_installed_versions(
    monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    config = config_of(project)
    before = tool.inputs_digest(config)
    monkeypatch.setattr(sys, "version", sys.version + " (another build)")
    assert tool.inputs_digest(config) != before
    monkeypatch.undo()

    versions = tool.metadata.distributions
    monkeypatch.setattr(tool.metadata, "distributions", lambda: list(versions())[1:])
    assert tool.inputs_digest(config) != before
    monkeypatch.undo()

    # Every module of oeus_kraken (the plugins, the base clients, the refusals) is read.
    read: list[Path] = []
    real_bytes_of = tool._bytes_of
    monkeypatch.setattr(tool, "_bytes_of", lambda path: read.append(path) or real_bytes_of(path))
    tool.inputs_digest(config)
    assert ROOT / "oeus_kraken" / "codegen" / "plugins.py" in read
    assert ROOT / "oeus_kraken" / "base.py" in read
    assert Path(tool.__file__).resolve() in read


@pytest.mark.slow
def test_a_stamped_check_passes_without_regenerating_and_a_changed_one_regenerates(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = config_of(project)
    monkeypatch.setattr(tool, "load_config", lambda _path: config)
    monkeypatch.setattr(tool, "STAMP", tmp_path / "stamp")
    monkeypatch.setattr(sys, "argv", ["generate.py", "--check"])
    regenerated: list[bool] = []
    real_check = tool.check
    monkeypatch.setattr(tool, "check", lambda c: regenerated.append(True) or real_check(c))

    assert tool.main() == 0  # no stamp yet: regenerates, passes, stamps
    assert tool.main() == 0  # stamped: passes without regenerating
    assert regenerated == [True]
    assert "nothing changed since the last check passed" in capsys.readouterr().out

    enums = project / "src" / "my_kraken" / "enums.py"
    enums.write_text(enums.read_text() + "# edited\n")
    assert tool.main() == 1  # the package changed: regenerated, and found stale
    assert regenerated == [True, True]
    assert "# edited" in capsys.readouterr().out
    assert tool.main() == 1  # a failed check leaves no stamp to pass on
    monkeypatch.setattr(sys, "argv", ["generate.py", "--check", "--no-cache"])
    enums.write_text(enums.read_text().replace("# edited\n", ""))
    assert tool.main() == 0
    assert tool.main() == 0
    assert len(regenerated) == 5  # --no-cache: every time


@pytest.mark.parametrize("argv", [["generate.py"], ["generate.py", "--check", "--no-cache"]])
def test_ctrl_c_during_make_generate_is_one_line_exit_130(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    # Before: a KeyboardInterrupt traceback from deep inside graphql-core or ariadne-codegen.
    config = config_of(project)
    monkeypatch.setattr(tool, "load_config", lambda _path: config)
    monkeypatch.setattr(sys, "argv", argv)

    def interrupted(_config: dict[str, Any]) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(tool, "check", interrupted)
    monkeypatch.setattr(tool, "generate", interrupted)

    assert tool.main() == 130
    err = capsys.readouterr().err
    assert err.splitlines() == ["generate: interrupted (Ctrl-C); generated/ left as it was"]


class _FullDisk:
    """A stdout every write to fails, as on a full disk (`> /dev/full`)."""

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def writelines(self, lines: Any) -> None:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        pass


def test_an_output_that_cannot_be_written_is_one_line_exit_2_never_stale_1(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: an OSError traceback and exit 1, which says "generated/ is stale", for a
    # package that was up to date.
    config = config_of(project)
    monkeypatch.setattr(tool, "load_config", lambda _path: config)
    monkeypatch.setattr(tool, "STAMP", None)
    monkeypatch.setattr(tool, "check", lambda _config: [])
    monkeypatch.setattr(sys, "argv", ["generate.py", "--check"])
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", _FullDisk())

    assert tool.main() == 2
    assert capsys.readouterr().err.splitlines() == [
        "generate: cannot write the output: No space left on device"
    ]
