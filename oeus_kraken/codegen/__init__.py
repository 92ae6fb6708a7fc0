"""Typed Kraken clients from `.graphql` operations (`oeus-kraken codegen`, `make generate`).

    oeus-kraken codegen --queries ops/ --package my_kraken --target src/ [--schema FILE]

writes the package `src/my_kraken/`: `KrakenClient` (async) and `SyncKrakenClient`, one typed
method per operation, one set of pydantic models shared by both, on oeus_kraken's base clients
(authentication, retries, typed errors). The schema defaults to the one oeus-kraken ships.

ariadne-codegen 0.19.0 makes one client flavour per run, each with its own copy of the models.
So `generate` runs it twice: once for the async client, models, enums and inputs; once with
`async_client = false` into a scratch folder, from which only the sync client module and its
base are kept, after checking that every model module is byte-identical to the first run's.
Both runs finish in scratch space before the target is replaced, so a failed run leaves an
existing package as it was. Output is byte-reproducible for the same inputs and pinned versions,
wherever they are: the header's regenerating command names paths relative to the target.

Before anything is written, `_refusals` refuses what cannot give a working package (a bad
package name, a file where a folder must be, an operation that cannot be a method of its own),
and `_manifest` refuses to replace a folder holding any file an earlier run did not write. Each
refusal is a CodegenError of one line; `oeus-kraken codegen` prints it and exits 2.

Deprecated elements the operations use are said once each, in one line naming the file and
line (`deprecations`, from `oeus_kraken.schema`); ariadne-codegen's own DeprecationWarnings,
Python warning dumps naming site-packages, are silenced while it runs.

Needs the `codegen` extra: `pip install 'oeus-kraken[codegen]'` (ariadne-codegen and the exact
ruff and graphql-core versions it formats and prints with).
"""

from __future__ import annotations

import contextlib
import copy
import filecmp
import io
import os
import shlex
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from .._compat import toml_loads
from .._errors import ConfigurationError
from ._clashes import name_clashes
from ._differences import differences
from ._errors import CodegenError, ForeignFileError, shown
from ._manifest import MANIFEST, refuse_foreign, write_manifest
from ._operations import schema_sdl, validate_operations
from ._refusals import refuse_overrides, refuse_problems, refuse_unusable

__all__ = [
    "MANIFEST",
    "CodegenError",
    "ForeignFileError",
    "check",
    "deprecations",
    "generate",
    "load_config",
    "package_config",
    "print_config",
    "say_deprecations",
    "validate_operations",
]

ARIADNE_CODEGEN_VERSION = "0.19.0"
BASE_CLIENTS = Path(__file__).resolve().parent / "base_clients"
ASYNC_BASE = ("AsyncKrakenBaseClient", "async_base_client")
SYNC_BASE = ("KrakenBaseClient", "base_client")
ASYNC_CLIENT = ("KrakenClient", "async_client")
SYNC_CLIENT = ("SyncKrakenClient", "sync_client")
# Modules only the sync run contributes, and those that differ between the runs by design.
SYNC_ONLY_MODULES = (f"{SYNC_CLIENT[1]}.py", f"{SYNC_BASE[1]}.py")
PER_RUN_MODULES = {
    "__init__.py",
    f"{ASYNC_CLIENT[1]}.py",
    f"{ASYNC_BASE[1]}.py",
    *SYNC_ONLY_MODULES,
}

# The ariadne-codegen settings every Kraken client is generated with: our base clients and
# plugins, the custom scalars' Python types, and import-time switches for a 1,400-type schema.
STANDARD_SETTINGS: dict[str, Any] = {
    "client_name": ASYNC_CLIENT[0],
    "client_file_name": ASYNC_CLIENT[1],
    "base_client_name": ASYNC_BASE[0],
    "base_client_file_path": str(BASE_CLIENTS / f"{ASYNC_BASE[1]}.py"),
    "async_client": True,
    # No file uploads in Kraken operations.
    "multipart_uploads": False,
    # Only the inputs and enums the operations use: the schema would otherwise give thousands.
    "include_all_inputs": False,
    "include_all_enums": False,
    # Import time: models build on first use, modules load on first attribute access.
    "defer_model_build": True,
    "lazy_imports": True,
    # No timestamp, so that regenerating gives identical bytes; our header replaces it.
    "include_comments": "stable",
    "scalars": {
        "DateTime": {
            "type": "datetime.datetime",
            "serialize": "oeus_kraken.scalars.serialize_datetime",
        },
        "Date": {"type": "datetime.date", "serialize": "oeus_kraken.scalars.serialize_date"},
        "Decimal": {
            "type": "decimal.Decimal",
            "parse": "oeus_kraken.scalars.parse_decimal",
            "serialize": "oeus_kraken.scalars.serialize_decimal",
        },
        "GenericScalar": {"type": "oeus_kraken.scalars.JSONValue"},
        "JSONString": {
            "type": "oeus_kraken.scalars.JSONValue",
            "parse": "oeus_kraken.scalars.parse_json_string",
            "serialize": "oeus_kraken.scalars.serialize_json_string",
        },
        "BigInt": {"type": "int", "parse": "oeus_kraken.scalars.parse_big_int"},
    },
}


def _plugins() -> list[str]:
    try:
        from .plugins import PLUGINS
    except ImportError:  # they subclass ariadne-codegen's Plugin: say which extra brings it
        _require_ariadne_codegen()
        raise

    return list(PLUGINS)


def shipped_schema() -> Path:
    """The schema oeus-kraken ships (in a wheel) or its checkout's schema.graphql."""
    from .._resources import schema_path

    return schema_path()


def package_config(
    *,
    queries: str | Path,
    package: str,
    target: str | Path,
    schema: str | Path | None = None,
    regenerate: str | None = None,
    public_operations: list[str] | None = None,
    authenticated_operations: list[str] | None = None,
) -> dict[str, Any]:
    """The full codegen config for one generated package (what `--print-config` prints)."""
    settings = copy.deepcopy(STANDARD_SETTINGS)
    settings.update(
        schema_path=str(schema or shipped_schema()),
        queries_path=str(queries),
        target_package_path=str(target),
        target_package_name=package,
        plugins=_plugins(),
    )
    if regenerate is None:  # run in the target folder: the same words in every clone
        words = ["oeus-kraken", "codegen", "--queries", _from_target(queries, target)]
        words += ["--package", package, "--target", "."]
        words += ["--schema", _from_target(schema, target)] if schema else []
        words += [w for name in public_operations or [] for w in ("--public", name)]
        words += [w for name in authenticated_operations or [] for w in ("--authenticated", name)]
        regenerate = shlex.join(words)
    ours: dict[str, Any] = {
        "regenerate": regenerate,
        "sync_client": {
            "name": SYNC_CLIENT[0],
            "module": SYNC_CLIENT[1],
            "base_name": SYNC_BASE[0],
            "base_module": SYNC_BASE[1],
        },
        "public_operations": list(public_operations or []),
        "authenticated_operations": list(authenticated_operations or []),
    }
    return {"tool": {"ariadne-codegen": settings, "oeus-kraken": ours}}


def _from_target(path: str | Path, target: str | Path) -> str:
    """`path` relative to the `target` folder, with / between names: so the header of a file
    names no folder outside the project, and a clone anywhere regenerates the same bytes."""
    try:
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(target))
    except ValueError:  # Windows: on another drive, so there is no relative path
        relative = str(path)
    return Path(relative).as_posix()


def load_config(path: str | Path) -> dict[str, Any]:
    """A codegen.toml, completed with the standard settings: it needs only `schema_path`,
    `queries_path`, `target_package_path` and `target_package_name`; anything else it sets (in
    `[tool.ariadne-codegen]` or `[tool.oeus-kraken]`) overrides the standard. Paths in it are
    relative to its folder."""
    path = Path(path)
    try:
        written = toml_loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CodegenError(f"{path}: cannot read it as TOML ({exc})") from None
    section = _table(path, written, "ariadne-codegen")
    ours = _table(path, written, "oeus-kraken")
    required = ("schema_path", "queries_path", "target_package_path", "target_package_name")
    missing = [key for key in required if key not in section]
    if missing:
        raise CodegenError(f"{path}: [tool.ariadne-codegen] needs {', '.join(missing)}")
    # Checked here, where the file is named: before, a list or a number was a TypeError
    # traceback, and a string of operation names was taken letter by letter.
    for key in required:
        if not isinstance(section[key], str):
            raise CodegenError(f"{path}: [tool.ariadne-codegen] {key} must be a string")
    for key in ("public_operations", "authenticated_operations"):
        names = ours.get(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise CodegenError(
                f"{path}: [tool.oeus-kraken] {key} must be a list of operation names"
            )
    folder = path.resolve().parent
    target = folder / section["target_package_path"]
    regenerate = ["oeus-kraken", "codegen", "--config", _from_target(path.resolve(), target)]
    config = package_config(
        queries=folder / section["queries_path"],
        package=section["target_package_name"],
        target=target,
        schema=folder / section["schema_path"],
        regenerate=shlex.join(regenerate),
    )
    for key, value in section.items():
        if key not in ("schema_path", "queries_path", "target_package_path"):
            config["tool"]["ariadne-codegen"][key] = value
    config["tool"]["oeus-kraken"].update(ours)
    return config


def _table(path: Path, written: dict[str, Any], name: str) -> dict[str, Any]:
    """`[tool.NAME]` of a codegen.toml (empty when absent); CodegenError if it is no table."""
    tool = written.get("tool", {})
    table = tool.get(name, {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise CodegenError(f"{path}: [tool.{name}] is not a table")
    return table


def print_config(config: dict[str, Any]) -> str:
    """`config` as a codegen.toml for plain ariadne-codegen (one client flavour per run)."""
    import toml  # the codegen extra (and ariadne-codegen's own dependency)

    # Without `sync_client`: it has the package export the sync client that only our second run
    # writes. One plain run writes the async client alone, and before, its package exported a
    # SyncKrakenClient that was ModuleNotFoundError, and failed mypy --strict.
    config = copy.deepcopy(config)
    config["tool"]["oeus-kraken"].pop("sync_client", None)
    return str(toml.dumps(config))


def _require_ariadne_codegen() -> None:
    try:
        from ariadne_codegen.__about__ import __version__
    except ImportError:
        raise CodegenError(
            "oeus-kraken codegen needs ariadne-codegen: pip install 'oeus-kraken[codegen]'"
        ) from None
    if __version__ != ARIADNE_CODEGEN_VERSION:
        raise CodegenError(
            f"oeus-kraken codegen needs ariadne-codegen=={ARIADNE_CODEGEN_VERSION} for "
            f"reproducible output, but {__version__} is installed: "
            "pip install 'oeus-kraken[codegen]'"
        )


def deprecations(config: dict[str, Any]) -> list[str]:
    """One line per deprecated element the operations use ("ops/a.graphql:3: field
    ProductType.oldField is deprecated: <reason>"); empty when they use none. Problems with the
    schema or the operations (or a missing extra) are left for `generate` and `check` to report."""
    try:
        from ..schema import deprecation_lines
    except ImportError:  # no graphql-core: generate() says which extra to install
        return []
    settings = config["tool"]["ariadne-codegen"]
    try:
        return deprecation_lines(settings["schema_path"], settings["queries_path"])
    except ConfigurationError:
        return []


def say_deprecations(config: dict[str, Any], *, fail: bool, prefix: str) -> bool:
    """Print `deprecations` on stderr, one line each; with `fail`, if there are any, say that
    nothing will be written and return True (the caller then exits 1 without generating)."""
    lines = deprecations(config)
    for line in lines:
        print(line, file=sys.stderr)
    if fail and lines:
        count = f"{len(lines)} deprecated element{'s' if len(lines) > 1 else ''}"
        print(
            f"{prefix}: the operations use {count} (--fail-on-deprecated): nothing written",
            file=sys.stderr,
        )
        return True
    return False


def _codegen(config: dict[str, Any]) -> None:
    # ariadne-codegen prints its settings and file list: keep the command quiet. It also warns
    # of deprecated elements as Python warnings (`deprecations` says them once, in one line
    # each), and turns DeprecationWarnings on for the whole process when imported: both stay
    # inside this block.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        from ariadne_codegen.exceptions import CodeGenException
        from ariadne_codegen.main import client as run_codegen

        warnings.simplefilter("ignore", DeprecationWarning)  # after the import's own filter
        _check_settings(config)
        try:
            run_codegen(config)  # type: ignore[no-untyped-call]
        except CodeGenException as exc:  # what the checks before it did not foresee
            raise CodegenError(f"ariadne-codegen: {' '.join(str(exc).split())}") from exc
        except RuntimeError as exc:  # ruff, formatting it, found what it wrote is no Python
            if "ruff format failed" not in str(exc):
                raise
            raise CodegenError(_no_python(config, str(exc))) from None


def _no_python(config: dict[str, Any], error: str) -> str:
    """Why ariadne-codegen wrote no Python, in one line. An input type or an enum is a class of
    its own name, which a keyword (`input from`, `enum None`) cannot be: before, a RuntimeError
    traceback ("ruff format failed ... Expected an identifier, but found a keyword `from`")."""
    import keyword

    from graphql import GraphQLEnumType, GraphQLInputObjectType, build_schema

    schema = Path(config["tool"]["ariadne-codegen"]["schema_path"])
    types = build_schema(schema_sdl(schema)).type_map.items()
    named = sorted(
        name
        for name, kind in types
        if keyword.iskeyword(name) and isinstance(kind, (GraphQLInputObjectType, GraphQLEnumType))
    )
    if named:
        return (
            f"the schema's types {', '.join(named)} are Python keywords, which cannot name the "
            "classes codegen writes for them: leave them out of the operations' variables, "
            "arguments and fields"
        )
    first = next((line for line in error.splitlines() if "error:" in line), error)
    return f"ariadne-codegen wrote Python that does not parse ({first.strip()}): please report it"


def _check_settings(config: dict[str, Any]) -> None:
    """CodegenError, in one line, for a `[tool.ariadne-codegen]` setting of a codegen.toml that
    ariadne-codegen cannot use (`plugins = "x"`, `scalars = 5`, a plugin not installed): its
    parsing raises whatever it meets (TypeError, AttributeError, ImportError), a traceback.
    Only a codegen.toml sets more than the four paths, which the refusals have checked."""
    from ariadne_codegen.config import get_client_settings
    from ariadne_codegen.plugins.explorer import get_plugins_types

    try:
        get_plugins_types(get_client_settings(config).plugins)
    except Exception as exc:  # whatever the parsing raises is the setting's fault
        why = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise CodegenError(
            f"a [tool.ariadne-codegen] setting in the codegen.toml is one ariadne-codegen "
            f"cannot use ({why})"
        ) from None


def _run_twice(config: dict[str, Any], output_root: Path) -> Path:
    """Both runs into `output_root`; returns the package folder."""
    config = copy.deepcopy(config)
    settings = config["tool"]["ariadne-codegen"]
    settings["target_package_path"] = str(output_root)
    # No comment of ariadne-codegen's own: the header plugin heads every module, and the one
    # module it does not reach (operations) named the queries path as it is: a folder's name
    # holding a newline broke that comment in two, a SyntaxError (_head_every_module heads it).
    settings["include_comments"] = "none"
    schema = Path(settings["schema_path"])
    sdl = schema_sdl(schema)
    package = output_root / settings["target_package_name"]
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryDirectory() as printed:
        if sdl != schema.read_text(encoding="utf-8"):  # introspection JSON (or a BOM)
            # Printed outside the target: a target inside the queries folder would have
            # ariadne-codegen read the schema as operations.
            settings["schema_path"] = str(Path(printed) / "schema.graphql")
            Path(settings["schema_path"]).write_text(sdl, encoding="utf-8")
        _codegen(config)
        own = dict((ASYNC_CLIENT, ASYNC_BASE, SYNC_CLIENT, SYNC_BASE))
        refuse_problems(name_clashes(package, settings["queries_path"], own))
        sync_config = copy.deepcopy(config)
        sync_config["tool"]["ariadne-codegen"].update(
            async_client=False,
            client_name=SYNC_CLIENT[0],
            client_file_name=SYNC_CLIENT[1],
            base_client_name=SYNC_BASE[0],
            base_client_file_path=str(BASE_CLIENTS / f"{SYNC_BASE[1]}.py"),
            target_package_path=scratch,
        )
        _codegen(sync_config)
        sync_package = Path(scratch) / package.name
        shared = sorted(p.name for p in sync_package.glob("*.py") if p.name not in PER_RUN_MODULES)
        _, differ, missing = filecmp.cmpfiles(package, sync_package, shared, shallow=False)
        if differ or missing:
            raise CodegenError(
                f"the sync run's models differ from the async run's: {differ + missing}"
            )
        for name in SYNC_ONLY_MODULES:
            shutil.copyfile(sync_package / name, package / name)
    _head_every_module(package, str(config["tool"]["oeus-kraken"]["regenerate"]))
    # PEP 561 marker: type checkers read the generated package's annotations.
    (package / "py.typed").write_text("")
    write_manifest(package)
    return Path(package)


def _head_every_module(package: Path, regenerate: str) -> None:
    """Give modules written outside the header plugin (ariadne-codegen's operations module)
    the same header, and a blank line after it."""
    from .plugins import header

    wanted = header(regenerate)
    for module in sorted(package.glob("*.py")):
        text = module.read_text(encoding="utf-8")
        if not text.startswith(wanted):
            module.write_text(wanted + "\n\n" + text.lstrip("\n"), encoding="utf-8")


def generate(config: dict[str, Any]) -> Path:
    """Write the package `config` describes, replacing one an earlier run wrote; returns its
    folder. Raises CodegenError, in one line and having written nothing, for operations that do
    not validate, a bad package name or path, and ForeignFileError for a folder there holding a
    file codegen did not write (or one it wrote and someone changed since)."""
    _require_ariadne_codegen()
    settings = config["tool"]["ariadne-codegen"]
    refuse_unusable(settings, replacing=True)
    refuse_overrides(config)
    target = Path(settings["target_package_path"])
    final = target / str(settings["target_package_name"])
    made = [p for p in (target, *target.parents) if not os.path.lexists(p)]  # deepest first
    try:
        _write(config, target, final)
    except BaseException:  # a failure, or Ctrl-C: leave no folder this run made
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return final


def _write(config: dict[str, Any], target: Path, final: Path) -> None:
    """Generate into a scratch folder beside `final`, then put it in `final`'s place."""
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target, prefix=".codegen-") as scratch:
            fresh: Path = _run_twice(config, Path(scratch))
            refuse_foreign(final)  # again: the run takes seconds, and files may have come
            _replace(final, fresh, Path(scratch) / ".replaced")
    except OSError as exc:
        raise CodegenError(f"cannot write {shown(final)}: {exc.strerror or exc}") from exc


def _replace(final: Path, fresh: Path, old: Path) -> None:
    """Put `fresh` where `final` is, by renames in one folder. The old package goes (with the
    scratch folder) only once the new one is in place, and is put back if it cannot be."""
    if final.exists():
        final.rename(old)
    try:
        fresh.rename(final)
    except BaseException:  # Ctrl-C too: the old package sits in the scratch folder, which goes
        if old.exists():
            old.rename(final)
        raise


def check(config: dict[str, Any]) -> list[str]:
    """A unified diff between the package on disk and what `generate` would write (empty when
    they are the same). Refuses, as `generate` does, what cannot give a working package."""
    _require_ariadne_codegen()
    settings = config["tool"]["ariadne-codegen"]
    refuse_unusable(settings, replacing=False)
    refuse_overrides(config)
    existing = Path(settings["target_package_path"]) / settings["target_package_name"]
    with tempfile.TemporaryDirectory() as scratch:
        fresh = _run_twice(config, Path(scratch))
        return differences(fresh, existing)
