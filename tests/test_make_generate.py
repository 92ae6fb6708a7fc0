"""`make generate` and `make check-generated` (tools/generate.py) work whatever state generated/
is in: they are how a missing, broken or hand-edited generated package is found and rebuilt."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from oeus_kraken.codegen import package_config

ROOT = Path(__file__).resolve().parent.parent

# tools/generate.py as `make` runs it in a checkout whose generated/ was deleted: generated/ on
# the import path (as the editable install puts it), the package in it unimportable; and no check
# stamp written in the venv.
RUN_TOOL = textwrap.dedent(
    """
    import importlib.util, os, sys
    sys.path.insert(0, os.path.join(os.getcwd(), "generated"))
    sys.modules["oeus_kraken_generated"] = None  # any import of it fails
    spec = importlib.util.spec_from_file_location("generate_tool", sys.argv[1])
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.STAMP = None
    sys.argv = sys.argv[1:]
    raise SystemExit(tool.main())
    """
)


def _tool(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN_TOOL, str(project / "tools" / "generate.py"), *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_make_generate_rebuilds_a_deleted_generated_package_and_the_check_then_passes(
    tmp_path: Path,
) -> None:
    project = tmp_path / "checkout"
    (project / "tools").mkdir(parents=True)
    shutil.copy(ROOT / "tools" / "generate.py", project / "tools")
    for name in ("codegen.toml", "schema.graphql"):
        shutil.copy(ROOT / name, project)
    shutil.copytree(ROOT / "queries", project / "queries")

    generated = _tool(project)

    assert generated.returncode == 0, generated.stderr[-2000:]
    assert "Traceback" not in generated.stderr
    package = project / "generated" / "oeus_kraken_generated"
    assert (package / "async_client.py").read_bytes() == (
        ROOT / "generated" / "oeus_kraken_generated" / "async_client.py"
    ).read_bytes()
    checked = _tool(project, "--check", "--no-cache")
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    assert "matches" in checked.stdout


@pytest.mark.parametrize(
    ("fresh", "on_disk", "said"),
    [
        (
            {"py.typed": b"", "a.py": b"x = 1\n"},
            {"a.py": b"x = 1\n"},
            "Only in regenerated: py.typed",
        ),
        ({"a.py": b"x = 1\n"}, {"a.py": b"x = 1\n", "mine.py": b""}, "Only in my_kraken: mine.py"),
    ],
    ids=["an empty file deleted", "an empty file added"],
)
def test_check_generated_names_an_empty_file_deleted_or_added(
    tmp_path: Path, fresh: dict[str, bytes], on_disk: dict[str, bytes], said: str
) -> None:
    from oeus_kraken.codegen._differences import differences

    folders = {"regenerated": fresh, "my_kraken": on_disk}
    for folder, files in folders.items():
        for name, content in files.items():
            (tmp_path / folder).mkdir(exist_ok=True)
            (tmp_path / folder / name).write_bytes(content)

    shown = differences(tmp_path / "regenerated", tmp_path / "my_kraken")

    assert [line.rstrip("\n") for line in shown] == [said]


def test_a_second_make_generate_writes_nothing_and_a_changed_input_regenerates(
    small_codegen_project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = Path(shutil.copytree(small_codegen_project, tmp_path / "project", symlinks=True))
    spec = importlib.util.spec_from_file_location("generate_tool", ROOT / "tools" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    config = package_config(
        queries=project / "ops",
        package="my_kraken",
        target=project / "src",
        schema=project / "small.graphql",
    )
    monkeypatch.setattr(tool, "load_config", lambda _path: config)
    monkeypatch.setattr(tool, "STAMP", tmp_path / "stamp")
    monkeypatch.setattr(sys, "argv", ["generate.py"])
    written: list[bool] = []
    real_generate = tool.generate

    def generate(config: dict[str, Any]) -> Path:
        written.append(True)
        return Path(real_generate(config))

    monkeypatch.setattr(tool, "generate", generate)
    package = project / "src" / "my_kraken"

    assert tool.main() == 0
    before = package.stat().st_ino, (package / "enums.py").stat().st_mtime_ns
    assert tool.main() == 0  # nothing changed: nothing written

    assert written == [True]
    assert (package.stat().st_ino, (package / "enums.py").stat().st_mtime_ns) == before
    assert "nothing changed since it was last written or checked" in capsys.readouterr().out
    operation = project / "ops" / "viewer.graphql"
    operation.write_text(operation.read_text() + "\n# a comment\n")
    assert tool.main() == 0
    assert written == [True, True]
    monkeypatch.setattr(sys, "argv", ["generate.py", "--no-cache"])
    assert tool.main() == 0
    assert written == [True, True, True]
