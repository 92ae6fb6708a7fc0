"""A module of the package's name already in the target folder (`src/my_kraken.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from codegen_helpers import MAKE, VIEWER, codegen_here


# Extensions built for two Pythons: whichever runs codegen, the other's is the application's too.
@pytest.mark.parametrize(
    "module",
    [
        "my_kraken.py",
        "my_kraken.cpython-310-x86_64-linux-gnu.so",
        "my_kraken.cpython-313-x86_64-linux-gnu.so",
        "my_kraken.abi3.so",
    ],
)
def test_a_module_the_package_would_take_the_place_of_is_refused(
    tmp_path: Path, module: str
) -> None:
    # A package folder comes before a module of the same name in `import my_kraken`. Before,
    # codegen wrote src/my_kraken/ beside the user's src/my_kraken.py, and their application's
    # `import my_kraken` got the generated client: nothing deleted, yet their module unreachable.
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "viewer.graphql").write_text(VIEWER, encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / module).write_text("APP = 1\n", encoding="utf-8")
    for check in ((), ("--check",)):
        run = codegen_here(*MAKE, *check, cwd=tmp_path)
        assert (run.code, run.out) == (2, ""), run.err
        [line] = run.err.splitlines()
        assert line.startswith(f"oeus-kraken codegen: src/{module} is a module of that name"), line
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == [module]
