"""What differs between the Python versions we support (3.10 to 3.13), answered in one place.

Each function here behaves the same on every supported version, so code elsewhere never tests
`sys.version_info` itself, and when 3.10 is dropped this module says what can go. Each imports
lazily what it needs on 3.10 (from the extra that needs it), so importing this module costs a
client nothing.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Mapping
from datetime import date, datetime
from types import CodeType, FunctionType
from typing import Any

__all__ = [
    "code_qualname",
    "date_fromisoformat",
    "datetime_fromisoformat",
    "packages_distributions",
    "toml_loads",
]


def toml_loads(text: str) -> dict[str, Any]:
    """Parse TOML text: `tomllib` from 3.11, the same parser from PyPI (`tomli`) on 3.10."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    parsed: dict[str, Any] = tomllib.loads(text)
    return parsed


def packages_distributions() -> Mapping[str, list[str]]:
    """Each importable top-level name and the distributions that install it.

    3.10's `importlib.metadata` reads only `top_level.txt`, which wheels from current build
    backends (hatchling, flit, maturin: httpx and pydantic among them) do not write, so it misses
    them; from 3.11 the names are also inferred from each distribution's RECORD. On 3.10 the
    `importlib_metadata` backport does what 3.11 does."""
    if sys.version_info >= (3, 11):
        from importlib.metadata import packages_distributions as inferring
    else:
        from importlib_metadata import packages_distributions as inferring
    names: Mapping[str, list[str]] = inferring()
    return names


# ISO 8601 as `fromisoformat` reads it from 3.11: `20240101T0930Z`, week dates (`2024-W01-1`),
# `+0100`, any number of fraction digits. 3.10's reads only what `isoformat()` writes, so the
# sandbox would refuse on 3.10 what it accepts on 3.12; the backport (the sandbox extra on 3.10)
# is 3.11's parser.


def datetime_fromisoformat(text: str) -> datetime:
    """`datetime.fromisoformat(text)` as Python 3.11 and later read it."""
    if sys.version_info >= (3, 11):
        return datetime.fromisoformat(text)
    from backports.datetime_fromisoformat import datetime_fromisoformat as backported

    parsed: datetime = backported(text)
    return parsed


def date_fromisoformat(text: str) -> date:
    """`date.fromisoformat(text)` as Python 3.11 and later read it."""
    if sys.version_info >= (3, 11):
        return date.fromisoformat(text)
    from backports.datetime_fromisoformat import date_fromisoformat as backported

    parsed: date = backported(text)
    return parsed


def code_qualname(code: CodeType) -> str:
    """The qualified name (`Class.method`) of the function whose code this is: `co_qualname`
    from 3.11. 3.10's code objects carry only `co_name`, so two `send` methods of one module
    would be one name: there, the function object holding the code gives it (code no function
    holds, a class or module body, keeps its `co_name`)."""
    if sys.version_info >= (3, 11):
        return code.co_qualname
    holders = (f for f in gc.get_referrers(code) if isinstance(f, FunctionType))
    holder = next((f for f in holders if f.__code__ is code), None)
    return code.co_name if holder is None else holder.__qualname__
