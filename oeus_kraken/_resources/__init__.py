"""Files the package ships besides its code: today schema.graphql, which the sandbox executes and
which code generation compiles against. The wheel carries it once, here (force-included from the
repository root by pyproject.toml); an editable install or a checkout reads the repository's own
copy, so an edited schema is seen without reinstalling.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["SCHEMA_FILE", "schema_path"]

SCHEMA_FILE = "schema.graphql"


def schema_path() -> Path:
    """Where schema.graphql is: in this package in a wheel, else in the repository root (an
    editable install or a checkout). FileNotFoundError naming both places if in neither."""
    packaged = importlib.resources.files(__name__) / SCHEMA_FILE
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / SCHEMA_FILE
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(
        f"cannot find {SCHEMA_FILE}: looked in the {__name__} package ({packaged}) "
        f"and the repository root ({checkout})"
    )
