"""`oeus-kraken sandbox` ends normally (exit 0, nothing on stderr) at a Ctrl-C whenever it comes:
while it serves, while its schema is built, and while its modules are still being imported
(starlette, uvicorn, graphql-core: the first half second or so after the command is typed).
"""

from __future__ import annotations

import sys
import types

import pytest
from cli_helpers import Cli, clean_env, cli

from oeus_kraken.cli import EXIT_CODES

__all__ = ["clean_env", "cli"]  # fixtures, used by name


class _InterruptedImport(types.ModuleType):
    """A module whose import is cut short by Ctrl-C: reading `serve` from it raises
    KeyboardInterrupt, as a SIGINT arriving mid-import does."""

    def __getattr__(self, name: str) -> object:
        if name == "serve":
            raise KeyboardInterrupt
        raise AttributeError(name)


def test_ctrl_c_while_the_sandbox_is_still_being_imported_is_its_normal_end(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: "oeus-kraken sandbox: interrupted (Ctrl-C)", exit 130, when Ctrl-C came during
    # `from ..sandbox import serve`; README and --help say a Ctrl-C ends it with 0.
    monkeypatch.setitem(
        sys.modules, "oeus_kraken.sandbox", _InterruptedImport("oeus_kraken.sandbox")
    )
    run = cli("sandbox", "--port", "0")
    assert (run.code, run.err) == (EXIT_CODES["ok"], "")
