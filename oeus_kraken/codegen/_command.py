"""`oeus-kraken codegen`: a typed client package from your own `.graphql` operations."""

from __future__ import annotations

import argparse
import os
import stat
import tempfile
import textwrap
from pathlib import Path
from typing import Any, TextIO

DESCRIPTION = """\
Generate an importable package DIR/NAME/ from your .graphql operations: KrakenClient (async) and
SyncKrakenClient, one typed method per operation, with oeus-kraken's authentication, retries and
errors. Operations that select only fields the API serves without authentication (products,
tdspByPostalcode, ...) are sent with no token; --public / --authenticated override that per
operation. It replaces DIR/NAME/ only when an earlier run wrote every file in it, unchanged
(NAME/codegen-manifest.json records them); otherwise it refuses and changes nothing. Needs the
'codegen' extra: pip install 'oeus-kraken[codegen]'.

example:
  oeus-kraken codegen --queries ops/ --package my_kraken --target src/
  python -c "from my_kraken import SyncKrakenClient"
"""

# Laid out here, as the description is (it is printed as it is): a line never breaks after a
# hyphen, which would split an option's name.
EPILOG = textwrap.fill(
    "Each deprecated element an operation uses is one line on stderr: "
    "'FILE:LINE: field Type.field is deprecated: REASON'. Exit codes: 0 ok (or no diff "
    "with --check), 1 --check found a diff, or --fail-on-deprecated and an operation uses "
    "a deprecated element (nothing written), 2 refused, with one line and nothing written: "
    "bad operations, package name or paths, a package folder holding a file codegen did "
    "not write (or one edited since), bad arguments, or the missing extra; also 2 when what "
    "it prints cannot be written (a full disk).",
    width=92,
    break_on_hyphens=False,
)


def _path(text: str) -> str:
    """A path as given, with `~` expanded as a shell would (a quoted '~/src' is still your home),
    as every command's paths are."""
    return os.path.expanduser(text)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "codegen",
        help="generate a typed client package from your own .graphql operations",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument(
        "--queries", metavar="DIR", type=_path, help="folder (or file) of .graphql operations"
    )
    parser.add_argument("--package", metavar="NAME", help="the package name, e.g. my_kraken")
    parser.add_argument(
        "--target", metavar="DIR", type=_path, help="where to write the package folder"
    )
    parser.add_argument(
        "--schema",
        metavar="FILE",
        type=_path,
        help="the GraphQL schema: SDL, or an introspection result saved as JSON (default: the "
        "one oeus-kraken ships)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=_path,
        help="a codegen.toml instead of the four options above",
    )
    parser.add_argument(
        "--public",
        metavar="OPERATION",
        action="append",
        default=[],
        help="send this operation with no token (repeatable)",
    )
    parser.add_argument(
        "--authenticated",
        metavar="OPERATION",
        action="append",
        default=[],
        help="send this operation with a token even if it looks public (repeatable)",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 and show a diff if stale"
    )
    parser.add_argument(
        "--fail-on-deprecated",
        action="store_true",
        help="exit 1, writing nothing, if an operation uses a deprecated element",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the complete codegen.toml (for plain ariadne-codegen) and exit",
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    from . import CodegenError, load_config, package_config, print_config
    from ._errors import shown

    if args.config:
        config = load_config(args.config)
        ours = config["tool"]["oeus-kraken"]
        ours["public_operations"] = [*ours.get("public_operations", []), *args.public]
        ours["authenticated_operations"] = [
            *ours.get("authenticated_operations", []),
            *args.authenticated,
        ]
    else:
        missing = [f"--{n}" for n in ("queries", "package", "target") if not getattr(args, n)]
        if missing:
            raise CodegenError(f"give {', '.join(missing)} (or --config FILE)")
        config = package_config(
            queries=args.queries,
            package=args.package,
            target=args.target,
            schema=args.schema,
            public_operations=args.public,
            authenticated_operations=args.authenticated,
        )
    if args.print_config:
        print(print_config(config), end="", file=out)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        settings = config["tool"]["ariadne-codegen"]
        given = settings["schema_path"]
        settings["schema_path"] = _readable_again(given, Path(scratch))
        try:
            return _generate(config, args, out)
        except CodegenError as exc:
            # A refusal of the copy names the path given: before, it named the scratch copy
            # ("/tmp/tmpq1x2/schema.graphql: not a valid GraphQL schema"), gone by then.
            copy = settings["schema_path"]
            if copy == given or copy not in str(exc):
                raise
            raise CodegenError(str(exc).replace(copy, shown(given))) from None


def _readable_again(schema: str, scratch: Path) -> str:
    """A schema given through a pipe (`--schema <(curl ...)`, `/dev/stdin`) can be read once,
    and a run reads it several times (deprecations, the SDL, ariadne-codegen's two runs): such
    a schema is copied into `scratch` first. Any other path is left for the run to read, or to
    say why it cannot."""
    try:
        mode = os.stat(schema).st_mode
    except OSError:
        return schema
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return schema
    copy = scratch / "schema.graphql"
    copy.write_bytes(Path(schema).read_bytes())
    return str(copy)


def _generate(config: dict[str, Any], args: argparse.Namespace, out: TextIO) -> int:
    from . import check, generate, say_deprecations

    if say_deprecations(config, fail=args.fail_on_deprecated, prefix="oeus-kraken codegen"):
        return 1
    if args.check:
        diff = check(config)
        out.writelines(diff)
        print("codegen: stale: regenerate" if diff else "codegen: up to date", file=out)
        return 1 if diff else 0
    package = generate(config)
    print(f"codegen: wrote {package}", file=out)
    return 0
