"""Regenerate generated/oeus_kraken_generated from schema.graphql, queries/ and codegen.toml.

The package's own client is generated exactly as users generate theirs (`oeus-kraken codegen`):
this script only points oeus_kraken.codegen at our codegen.toml.

Usage:
    python tools/generate.py          rewrite generated/ (what `make generate` runs)
    python tools/generate.py --check  regenerate into a scratch folder and fail, showing a diff,
                                      if generated/ differs (what `make check-generated` runs)
    python tools/generate.py --fail-on-deprecated
                                      exit 1, writing nothing, if an operation in queries/ uses
                                      a deprecated element (`make generate FAIL_ON_DEPRECATED=1`)

Each deprecated element an operation uses is one line on stderr, `queries/x.graphql:3: field
Type.field is deprecated: <reason>`, whichever way it runs.

A check regenerates everything (ariadne-codegen twice over the 26k-line schema: seconds), so a
passing check, and a generate, leave a stamp in the virtual environment: a hash of every byte
its verdict depends on (codegen.toml, the schema, the operations, generated/, this script and
every module of oeus_kraken, the Python version and every installed distribution's version). The
next check with the same hash passes without regenerating, and the next generate writes nothing;
any change to any of them, or `--no-cache`, makes it regenerate (and a check compare) again.
Generating is byte-reproducible for the same inputs and versions (oeus_kraken.codegen), which
is what makes the stamp sound.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from oeus_kraken.cli._output import discard_stdout
from oeus_kraken.codegen import CodegenError, check, generate, load_config, say_deprecations

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """`_main`, with what it prints failing as one line: exit 1 says "stale", so an output that
    cannot be written (a full disk) is 2, and a reader gone (`| head`) ends it quietly, 141."""
    try:
        code = _main()
        sys.stdout.flush()
    except BrokenPipeError:
        discard_stdout()
        return 141
    except OSError as exc:
        discard_stdout()
        print(f"generate: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return code


def _main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated/ is stale")
    parser.add_argument(
        "--no-cache", action="store_true", help="regenerate even if nothing changed"
    )
    parser.add_argument(
        "--fail-on-deprecated",
        action="store_true",
        help="exit 1, writing nothing, if an operation uses a deprecated element",
    )
    args = parser.parse_args()
    try:
        config = load_config(ROOT / "codegen.toml")
        if say_deprecations(config, fail=args.fail_on_deprecated, prefix="generate"):
            return 1
        if not args.check:
            return _generate(config, cached=not args.no_cache)
        stamp, digest = STAMP, inputs_digest(config)
        if not args.no_cache and stamp is not None and _read(stamp) == digest:
            print("check-generated: generated/ matches schema.graphql, queries/ and codegen.toml "
                  "(nothing changed since the last check passed).")  # fmt: skip
            return 0
        diff = check(config)
    except CodegenError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # One line, not a traceback from deep in graphql-core; generate() writes in a scratch
        # folder and swaps it in whole, and a check writes nothing in generated/.
        print("generate: interrupted (Ctrl-C); generated/ left as it was", file=sys.stderr)
        return 130
    if diff:
        sys.stdout.writelines(diff)
        print("check-generated: generated/ is stale; run `make generate` and commit the result.")
        return 1
    if inputs_digest(config) == digest:  # nothing changed while it ran
        _write(stamp, digest)
    print("check-generated: generated/ matches schema.graphql, queries/ and codegen.toml.")
    return 0


def _generate(config: dict[str, Any], *, cached: bool) -> int:
    """Rewrite the package, unless the stamp says it is already what this would write: a second
    `make generate` does nothing; before, it regenerated (seconds) and swapped in a new folder of
    the same bytes, every file with a new time. A package just written is stamped, as a check
    that passed would stamp it, if nothing it came from changed while it was written."""
    digest = inputs_digest(config)
    if cached and STAMP is not None and _read(STAMP) == digest:
        print("generate: generated/ is already what schema.graphql, queries/ and codegen.toml "
              "give (nothing changed since it was last written or checked).")  # fmt: skip
        return 0
    sources = inputs_digest(config, package=False)
    package = generate(config)
    if inputs_digest(config, package=False) == sources:
        _write(STAMP, inputs_digest(config))
    print(f"generate: wrote {len(list(package.glob('*.py')))} modules to {package}")
    return 0


# Where a passing check's hash is kept: in the virtual environment (per clone, and gone with
# `make clean`); no stamp outside one.
STAMP = Path(sys.prefix) / "oeus-kraken-check-generated" if sys.prefix != sys.base_prefix else None


def inputs_digest(config: dict[str, Any], *, package: bool = True) -> str:
    """A hash of everything a check's verdict depends on (see the module's docstring); with
    package=False, of what generating reads only."""
    settings = config["tool"]["ariadne-codegen"]
    written = Path(settings["target_package_path"]) / settings["target_package_name"]
    files = [
        ROOT / "codegen.toml",
        Path(__file__).resolve(),
        Path(settings["schema_path"]),
        *_tree(Path(settings["queries_path"])),
        *_tree(ROOT / "oeus_kraken"),
        *(_tree(written) if package else ()),
    ]
    digest = hashlib.sha256(sys.version.encode())
    for path in files:
        digest.update(f"\0{os.path.relpath(path, ROOT)}\0".encode())
        digest.update(os.readlink(path).encode() if path.is_symlink() else _bytes_of(path))
    versions = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digest.update("\0".join(versions).encode())
    return digest.hexdigest()


def _tree(folder: Path) -> Iterable[Path]:
    """Every file and folder under `folder`, byte-code caches aside, in a stable order."""
    return (p for p in sorted(folder.rglob("*")) if "__pycache__" not in p.parts)


def _bytes_of(path: Path) -> bytes:
    if path.is_dir():
        return b"/"
    try:
        return path.read_bytes()
    except OSError as exc:  # unreadable: differs from any content, and the check will say why
        return f"unreadable: {exc}".encode()


def _read(stamp: Path) -> str | None:
    try:
        return stamp.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _write(stamp: Path | None, digest: str) -> None:
    if stamp is not None:
        with contextlib.suppress(OSError):  # a read-only environment: every check regenerates
            stamp.write_text(digest + "\n", encoding="ascii")


if __name__ == "__main__":
    raise SystemExit(main())
