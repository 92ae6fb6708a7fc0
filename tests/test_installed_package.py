"""What a user gets from `pip install oeus-kraken[...]`, one extra at a time, rather than from this
checkout's development venv (which installs every extra, and so pins graphql-core through the
codegen extra whatever the others allow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

from oeus_kraken._compat import toml_loads

ROOT = Path(__file__).resolve().parent.parent
PROJECT = toml_loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _requirements(extra: str, name: str) -> list[Requirement]:
    found = [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    return [r for r in found if r.name.lower().replace("_", "-") == name]


def test_the_sandbox_extra_alone_keeps_graphql_core_to_the_series_the_sandbox_runs_on() -> None:
    # ariadne alone allows graphql-core 3.3, under which the sandbox answered every usage query
    # with "dictionary update sequence element #0 has length 9; 2 is required".
    (graphql,) = _requirements("sandbox", "graphql-core")
    assert not graphql.specifier.contains("3.3.0")
    assert not graphql.specifier.contains("3.3.2")
    (pinned,) = _requirements("codegen", "graphql-core")  # both extras together still resolve
    (version,) = [s.version for s in pinned.specifier]
    assert graphql.specifier.contains(version)


def test_schema_diff_under_another_graphql_core_series_says_which_to_install(
    tmp_path: Path,
) -> None:
    # graphql-core 3.3 words its breaking changes otherwise: read with 3.2's patterns, an
    # operation sending an input type that gained a required field was "fine", exit 0.
    code = (
        "import sys, graphql\n"
        "graphql.version = '3.3.2'\n"
        "graphql.version_info = type(graphql.version_info)(3, 3, 2, 'final', 0)\n"
        "from oeus_kraken.cli import main\n"
        "sys.exit(main(['schema', 'diff', 'old.graphql', 'new.graphql']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "oeus-kraken schema diff: oeus_kraken.schema reads graphql-core 3.2's change reports, and"
        " 3.3.2 is installed: pip install 'oeus-kraken[codegen]' (it pins graphql-core 3.2)\n"
    )
