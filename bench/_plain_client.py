"""A plain ariadne-codegen client of our operations (its default base clients, no plugins), for
`make bench` to compare against: what a user gets from ariadne-codegen alone, with none of our
layer. Generated once per run into a temporary folder and imported from there."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "plain_kraken_client"

_scratch: tempfile.TemporaryDirectory[str] | None = None


def _generate(target: Path, *, async_client: bool) -> None:
    from ariadne_codegen.main import client as run_codegen

    from oeus_kraken.codegen import STANDARD_SETTINGS

    name = f"{PACKAGE}_{'async' if async_client else 'sync'}"
    config: dict[str, Any] = {
        "tool": {
            "ariadne-codegen": {
                "schema_path": str(ROOT / "schema.graphql"),
                "queries_path": str(ROOT / "queries"),
                "target_package_path": str(target),
                "target_package_name": name,
                "async_client": async_client,
                # The same import-time switches and scalar types as ours, so the models match.
                "include_all_inputs": False,
                "include_all_enums": False,
                "scalars": STANDARD_SETTINGS["scalars"],
            }
        }
    }
    with contextlib.redirect_stdout(io.StringIO()):
        run_codegen(config)  # type: ignore[no-untyped-call]


def plain_clients() -> tuple[Any, Any]:
    """(the async Client class, the sync Client class) of the plain generated packages."""
    global _scratch
    if _scratch is None:
        _scratch = tempfile.TemporaryDirectory(prefix="plain-client-")
        target = Path(_scratch.name)
        _generate(target, async_client=True)
        _generate(target, async_client=False)
        sys.path.insert(0, str(target))
    async_package: ModuleType = importlib.import_module(f"{PACKAGE}_async")
    sync_package: ModuleType = importlib.import_module(f"{PACKAGE}_sync")
    return async_package.Client, sync_package.Client
