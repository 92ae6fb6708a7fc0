"""`oeus-kraken codegen --print-config`, run through plain ariadne-codegen, as README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from codegen_helpers import PROTECTED, codegen_here, imported, mypy_strict, write_small_schema

ARIADNE_CODEGEN = Path(sys.executable).parent / "ariadne-codegen"


def _plain_ariadne_codegen(tmp_path: Path) -> Path:
    write_small_schema(tmp_path)
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "accounts.graphql").write_text(PROTECTED, encoding="utf-8")
    args = ("--queries", "ops", "--package", "my_kraken", "--target", "src")
    run = codegen_here(*args, "--schema", "small.graphql", "--print-config", cwd=tmp_path)
    assert run.code == 0, run.err
    (tmp_path / "codegen.toml").write_text(run.out, encoding="utf-8")
    (tmp_path / "src").mkdir()  # ariadne-codegen writes only into a folder that is there
    made = subprocess.run(
        [ARIADNE_CODEGEN, "--config", "codegen.toml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    return tmp_path / "src"


@pytest.mark.slow  # ariadne-codegen in a process of its own
def test_the_printed_config_gives_a_package_exporting_only_the_client_it_generates(
    tmp_path: Path,
) -> None:
    # One ariadne-codegen run makes one client, the async one. Before, the package's __init__
    # also exported SyncKrakenClient and KrakenBaseClient, whose modules only `oeus-kraken
    # codegen`'s second run writes: `from my_kraken import SyncKrakenClient` was
    # ModuleNotFoundError, and mypy --strict failed ("Cannot find implementation or library
    # stub for module named "my_kraken.sync_client"").
    src = _plain_ariadne_codegen(tmp_path)
    with imported(src, "my_kraken") as my_kraken:
        exported = set(my_kraken.__all__)
        assert "KrakenClient" in exported
        assert not {"SyncKrakenClient", "KrakenBaseClient"} & exported
        for name in my_kraken.__all__:
            getattr(my_kraken, name)  # every name it exports imports
    result = mypy_strict(src, tmp_path)
    assert result.returncode == 0, result.stdout
