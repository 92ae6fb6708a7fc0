"""Files the package ships besides its code: schema.graphql, which the sandbox executes and which
code generation compiles against, and queries/, the package's own operations, which `oeus-kraken
schema diff` checks against a new schema. The wheel carries each once, here (force-included from
the repository root by pyproject.toml); an editable install or a checkout reads the repository's
own copies, so an edited schema or operation is seen without reinstalling.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["QUERIES_FOLDER", "SCHEMA_FILE", "queries_path", "schema_path"]

SCHEMA_FILE = "schema.graphql"
QUERIES_FOLDER = "queries"


def _shipped(name: str, is_there: str) -> Path:
    """`name` in this package in a wheel, else in the repository root (an editable install or a
    checkout). FileNotFoundError naming both places if in neither."""
    packaged = importlib.resources.files(__name__) / name
    if getattr(packaged, is_there)():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / name
    if getattr(checkout, is_there)():
        return checkout
    raise FileNotFoundError(
        f"cannot find {name}: looked in the {__name__} package ({packaged}) "
        f"and the repository root ({checkout})"
    )


def schema_path() -> Path:
    """Where schema.graphql is (see the module's docstring)."""
    return _shipped(SCHEMA_FILE, "is_file")


def queries_path() -> Path:
    """Where the package's own operations (queries/*.graphql) are."""
    return _shipped(QUERIES_FOLDER, "is_dir")
