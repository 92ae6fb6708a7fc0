"""Regenerate generated/oeus_kraken_generated from schema.graphql, queries/ and codegen.toml.

ariadne-codegen makes one client flavour per run, each with its own copy of the model modules.
We want an async and a sync client over *one* set of model classes, so this script:

1. runs ariadne-codegen with codegen.toml as written (async client, models, enums, inputs);
2. runs it again with `async_client = false` into a scratch folder;
3. takes only the sync client module and the sync base client from the second run, after
   checking that every model module it made is byte-identical to the first run's.

Both clients' methods then import their result classes from the same modules, so a result from
the sync client is an instance of the same class as one from the async client.

Usage:
    python tools/generate.py          rewrite generated/ (what `make generate` runs)
    python tools/generate.py --check  regenerate into a scratch folder and fail, showing a diff,
                                      if generated/ differs (what `make check-generated` runs)
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import difflib
import filecmp
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from ariadne_codegen.main import client as run_codegen

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (the dev dependency group installs it there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "codegen.toml"
# Modules only the sync run contributes.
SYNC_CLIENT_MODULE = "sync_client.py"
SYNC_ONLY_MODULES = (SYNC_CLIENT_MODULE, "base_client.py")
# Modules that legitimately differ between the runs (they name the client of their run).
PER_RUN_MODULES = {"__init__.py", "async_client.py", "async_base_client.py", *SYNC_ONLY_MODULES}


def _codegen(config: dict[str, Any]) -> None:
    # ariadne-codegen prints its settings and file list; keep `make generate` quiet.
    with contextlib.redirect_stdout(io.StringIO()):
        run_codegen(config)  # type: ignore[no-untyped-call]


def generate(config: dict[str, Any], output_root: Path) -> Path:
    """Write the generated package under `output_root` and return its folder."""
    config = copy.deepcopy(config)
    settings = config["tool"]["ariadne-codegen"]
    settings["target_package_path"] = str(output_root)
    package_name: str = settings["target_package_name"]
    package = output_root / package_name

    # ariadne-codegen never deletes: start from nothing so a removed operation leaves no module.
    shutil.rmtree(package, ignore_errors=True)
    _codegen(config)

    with tempfile.TemporaryDirectory() as scratch:
        sync_config = copy.deepcopy(config)
        sync_config["tool"]["ariadne-codegen"].update(
            async_client=False,
            client_name="GeneratedSyncClient",
            client_file_name=SYNC_CLIENT_MODULE.removesuffix(".py"),
            target_package_path=scratch,
        )
        _codegen(sync_config)
        sync_package = Path(scratch) / package_name

        shared = sorted(p.name for p in sync_package.glob("*.py") if p.name not in PER_RUN_MODULES)
        _, differ, missing = filecmp.cmpfiles(package, sync_package, shared, shallow=False)
        if differ or missing:
            raise SystemExit(
                f"generate: the sync run's models differ from the async run's: {differ + missing}"
            )
        for name in SYNC_ONLY_MODULES:
            shutil.copyfile(sync_package / name, package / name)
    # PEP 561 marker: type checkers read the generated package's annotations.
    (package / "py.typed").write_text("")
    return package


def _differences(expected: Path, actual: Path) -> list[str]:
    """A unified diff of every file that differs, is missing or is extra in `actual`."""
    lines: list[str] = []
    names = sorted({p.name for p in expected.iterdir()} | {p.name for p in actual.iterdir()})
    for name in names:
        want, have = expected / name, actual / name
        want_text = want.read_text().splitlines(keepends=True) if want.exists() else []
        have_text = have.read_text().splitlines(keepends=True) if have.exists() else []
        lines += difflib.unified_diff(
            have_text, want_text, f"generated/{actual.name}/{name}", f"regenerated/{name}"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated/ is stale")
    args = parser.parse_args()

    os.chdir(ROOT)  # codegen.toml paths are relative to the repository root
    sys.path.insert(0, str(ROOT / "tools"))  # codegen_plugins
    config = tomllib.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    settings = config["tool"]["ariadne-codegen"]
    output_root = ROOT / settings["target_package_path"]

    if not args.check:
        package = generate(config, output_root)
        print(f"generate: wrote {len(list(package.glob('*.py')))} modules to {package}")
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(config, Path(scratch))
        diff = _differences(fresh, output_root / fresh.name)
    if diff:
        sys.stdout.writelines(diff)
        print("check-generated: generated/ is stale; run `make generate` and commit the result.")
        return 1
    print("check-generated: generated/ matches schema.graphql, queries/ and codegen.toml.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
