"""What `oeus-kraken codegen` refuses before it writes anything: the one gate both `generate`
and `check` pass through.

A package that cannot be imported, or that breaks what it imports, is worse than none: so a
package name that is not an identifier, is a keyword (`class`, `None`), or would shadow the
standard library or a module the generated code needs at run time (`typing`, `httpx`,
`pydantic`, `oeus_kraken`) is refused; so is a target or package path that is a file, and any
operation that cannot be a method of its own (`_operations`), and a package folder codegen may
not replace (`_manifest`). Each refusal is a CodegenError of one line, cheapest checks first.
"""

from __future__ import annotations

import functools
import glob
import importlib.machinery
import importlib.util
import keyword
import os
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from .._compat import packages_distributions
from ._errors import CodegenError, shown
from ._manifest import refuse_foreign
from ._operations import operation_names, validate_operations

__all__ = [
    "package_name_problem",
    "path_problem",
    "refuse_overrides",
    "refuse_problems",
    "refuse_unusable",
    "runtime_modules",
]

# Our own top-level modules: the hand-written client, and the generated package it ships.
OWN_MODULES = frozenset({"oeus_kraken", "oeus_kraken_generated"})
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def refuse_unusable(settings: dict[str, Any], *, replacing: bool) -> None:
    """Raise CodegenError, in one line, for the first reason the `[tool.ariadne-codegen]`
    settings cannot give a working package at their target: its name, its paths, (when
    `replacing` it) a folder there codegen may not replace, the operations. Reads only."""
    target = Path(settings["target_package_path"])
    name = str(settings["target_package_name"])
    problem = package_name_problem(name, target / name) or path_problem(target, target / name)
    if problem:
        raise CodegenError(problem)
    if replacing:  # before the operations: this is quick, and they take a second
        refuse_foreign(target / name)
    refuse_problems(validate_operations(settings["schema_path"], settings["queries_path"]))


def refuse_overrides(config: dict[str, Any]) -> None:
    """Raise CodegenError for an operation name given to --public or --authenticated (or
    `public_operations` / `authenticated_operations`) that no operation has, or given to both:
    before, a misspelt one was ignored without a word, and the operation still needed a token,
    which its user learnt at run time. Call once the operations validate."""
    ours = config["tool"]["oeus-kraken"]
    public = ours.get("public_operations", [])
    authenticated = ours.get("authenticated_operations", [])
    names = operation_names(config["tool"]["ariadne-codegen"]["queries_path"])
    known = f"(the operations: {', '.join(sorted(names))})"
    for option, given in (("--public", public), ("--authenticated", authenticated)):
        for name in given:
            if name not in names:
                raise CodegenError(f"{option} {name}: there is no operation of that name {known}")
    both = sorted(set(public) & set(authenticated))
    if both:
        raise CodegenError(
            f"{both[0]} is given both --public and --authenticated: give it one of them {known}"
        )


def refuse_problems(problems: list[str]) -> None:
    """Raise CodegenError with the first of `problems` (and how many more), if there are any."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CodegenError(problems[0] + more)


def package_name_problem(name: str, package: Path) -> str | None:
    """Why `name` cannot be the package written at `package`, or None if it can."""
    if keyword.iskeyword(name):
        why = f"it is a Python keyword (`import {name}` is a syntax error)"
    elif not name.isidentifier():
        why = "it is not a Python identifier (letters, digits and _, not starting with a digit)"
    elif unicodedata.normalize("NFKC", name) != name:
        # Python reads identifiers in NFKC form: `import` of my_kraken spelt in fullwidth
        # letters, or of a name spelt with a ligature, looks for the folder of the plain name.
        read = unicodedata.normalize("NFKC", name)
        why = f"Python reads it as {read!r}, so `import` would not find the folder written"
    elif name.startswith("__") and name.endswith("__"):
        why = "names with leading and trailing __ are Python's own"
    elif name in sys.stdlib_module_names:
        why = f"it would shadow the standard library's {name} module"
    elif name in runtime_modules() and not _imported_from(name, package):
        why = f"it would shadow {name}, which the generated code needs at run time"
    else:
        return None
    return f"{name!r} cannot be the Python package name: {why}; choose another"


@functools.cache
def runtime_modules() -> frozenset[str]:
    """The top-level modules a generated package needs at run time: ours, and those of every
    distribution oeus-kraken depends on (without extras), transitively, as installed here."""
    from importlib import metadata

    modules: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            modules.setdefault(_normalized(distribution), set()).add(module)
    needed: set[str] = set()
    waiting = ["oeus-kraken"]
    while waiting:
        distribution = _normalized(waiting.pop())
        if distribution in needed:
            continue
        needed.add(distribution)
        try:
            requirements = metadata.requires(distribution) or []
        except metadata.PackageNotFoundError:  # a dependency for another platform
            continue
        waiting += [_requirement(r) for r in requirements if "extra" not in r.partition(";")[2]]
    return OWN_MODULES | {m for d in needed for m in modules.get(d, ())}


def _requirement(requirement: str) -> str:
    match = _REQUIREMENT_NAME.match(requirement.strip())
    return match.group() if match else requirement


def _normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _imported_from(name: str, package: Path) -> bool:
    """Whether Python imports `name` from `package`: regenerating a package where it stands (our
    own `oeus_kraken_generated`, in a checkout) shadows nothing. A package missing for now (its
    folder deleted before regenerating) is at home where its parent is on the import path."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return any(_same_place(entry or os.curdir, package.parent) for entry in sys.path)
    places = list(spec.submodule_search_locations or [])
    return any(_same_place(place, package) for place in places)


def _same_place(a: str | Path, b: str | Path) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def path_problem(target: Path, package: Path) -> str | None:
    """Why the package cannot be written at `package` in `target`, or None if it can: a file
    (or a link) where a folder must be."""
    for place in (target, *target.parents):
        if os.path.lexists(place) and not place.is_dir():  # a file, or a link to nowhere
            where = "" if place == target else f" ({shown(place)} is a file)"
            return f"the target {shown(target)} is not a folder{where}: give a folder to write in"
    if package.is_symlink():
        return (
            f"{shown(package)} is a symbolic link: codegen replaces only a folder it wrote; "
            "remove the link or choose another package name"
        )
    if package.exists() and not package.is_dir():
        return (
            f"{shown(package)} is a file, not a package folder: codegen will not replace it; "
            "move it or choose another package name"
        )
    # `import name` finds a package folder before a module of that name beside it: before,
    # codegen wrote my_kraken/ beside the application's my_kraken.py, which `import` then
    # no longer reached (nothing deleted, yet the module gone from the application).
    # Any Python's modules count, not only this one's: an extension built for another
    # version (my_kraken.cpython-311-....so) is the application's there.
    for module in sorted(target.glob(glob.escape(package.name) + ".*")):
        tail = module.name[len(package.name) :]
        if tail in _MODULE_SUFFIXES or tail.endswith((".so", ".pyd")):
            return (
                f"{shown(module)} is a module of that name: the package written beside it "
                f"would take its place in `import {package.name}`; choose another package name"
            )
    return None


_MODULE_SUFFIXES = frozenset(importlib.machinery.all_suffixes())
