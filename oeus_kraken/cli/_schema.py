"""`oeus-kraken schema diff OLD NEW`: what a new schema does to your operations.

OLD and NEW are each a schema file or an endpoint URL; an endpoint is introspected through our
client, with the credentials the KRAKEN_* variables name (none: asked as anyone may, which a
public endpoint answers). The operations checked are those in each --queries folder, and this
package's own (queries/) unless --no-builtin. The engine is `oeus_kraken.schema`, which needs
graphql-core (the codegen extra): without it, the command says which extra to install.

The exit status is the answer a CI job needs: 1 only when an operation breaks (or, with
--fail-on-deprecated, uses a deprecated element). A schema that cannot be had is never 1: a bad
file is 2, an endpoint that refuses the credentials 3, one that cannot be reached or gives no
usable introspection result 4, a rate limit 5, a report that cannot be written 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._config import credentials_from_env
from .._errors import ConfigurationError
from ._common import (
    Invocation,
    RawDescriptionHelpFormatter,
    _checked_url,
    logging_options,
    non_empty_path,
    token_cache_help,
    token_store,
)

if TYPE_CHECKING:
    from ..schema import LoadedSchema

DESCRIPTION = """\
Compare two schemas, and check operations against the new one. OLD and NEW are each a schema
file or an endpoint URL (introspected with the credentials in KRAKEN_* variables, if any; a
public endpoint needs none).

It lists the schema changes (breaking, dangerous, safe; newly deprecated fields, arguments,
enum values and input fields with their reasons), then each operation's verdict against NEW:
breaks (it no longer validates, or a breaking change touches what it selects or sends: the
file:line, the field and the change that broke it), deprecated (each deprecated element it
uses, with the reason), or fine. The operations are those in each --queries folder, and
oeus-kraken's own (queries/) unless --no-builtin. Needs the 'codegen' extra: pip install
'oeus-kraken[codegen]'.

examples:
  oeus-kraken schema diff schema.graphql tomorrow.graphql --queries ops
  oeus-kraken schema diff schema.graphql https://api.oeus-kraken.systems/v1/graphql/ \\
      --queries ops --markdown --fail-on-deprecated
"""

EXIT_STATUSES = """\
exit statuses:
  0    nothing the operations use breaks (breaking changes elsewhere are listed, not failed)
  1    an operation breaks; with --fail-on-deprecated, also when one uses a deprecated element
  2    bad arguments, or a schema file or operation file missing or invalid, or the codegen
       extra not installed, or the report cannot be written (a full disk)
  3    an endpoint refused the credentials
  4    an endpoint could not be reached, or gave no usable introspection result
  5    rate limited; 130 interrupted; 141 output closed early (| head)
"""


def _schema_source(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("empty: give a schema file or an endpoint URL")
    return text.strip()


def register(commands: Any) -> argparse.ArgumentParser:
    """`schema` and its one verb, `diff`; returns `schema diff`'s parser."""
    schema = commands.add_parser(
        "schema",
        help="what a new schema does to your operations (schema diff OLD NEW)",
        description="Schema tools. `oeus-kraken schema diff OLD NEW --help` for the one there is.",
    )
    verbs = schema.add_subparsers(dest="verb", required=True, metavar="VERB")
    diff: argparse.ArgumentParser = verbs.add_parser(
        "diff",
        help="compare two schemas and check operations against the new one",
        description=DESCRIPTION,
        epilog=EXIT_STATUSES,
        formatter_class=RawDescriptionHelpFormatter,
        parents=[logging_options()],
    )
    diff.set_defaults(run=run_diff, auth=None, command="schema diff")
    diff.add_argument("old", metavar="OLD", type=_schema_source, help="the schema you have")
    diff.add_argument("new", metavar="NEW", type=_schema_source, help="the schema to come")
    diff.add_argument(
        "--queries",
        metavar="DIR",
        type=non_empty_path,
        action="extend",
        nargs="+",
        default=[],
        help="a folder (or file) of .graphql operations; repeatable",
    )
    diff.add_argument(
        "--no-builtin", action="store_true", help="leave out oeus-kraken's own operations"
    )
    formats = diff.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print JSON: every change, in full")
    formats.add_argument(
        "--markdown", action="store_true", help="print Markdown tables, for a pull-request comment"
    )
    diff.add_argument(
        "--fail-on-deprecated",
        action="store_true",
        help="exit 1 when an operation uses a deprecated element, too",
    )
    diff.add_argument(
        "--allow-insecure-http",
        action="store_true",
        default=argparse.SUPPRESS,  # a shared option (SHARED_OPTIONS), filled in by parse
        help="allow an http:// endpoint that is not on this machine",
    )
    diff.add_argument(
        "--no-token-cache",
        action="store_true",
        default=argparse.SUPPRESS,
        help=token_cache_help(),
    )
    return diff


def _introspect(url: str, args: argparse.Namespace) -> LoadedSchema:
    from ..schema import display_url, introspect

    # Checked as shown: a URL's user:password part must not reach an error message.
    _checked_url(display_url(url), "the command line", args.allow_insecure_http)
    return introspect(
        url,
        credentials=credentials_from_env(),
        token_store=token_store(args),
        allow_insecure_http=args.allow_insecure_http,
    )


def _load(source: str, args: argparse.Namespace) -> LoadedSchema:
    from ..schema import is_url, read_schema_file

    if is_url(source):
        return _introspect(source, args)
    return read_schema_file(Path(source).expanduser(), source)


def _folders(args: argparse.Namespace) -> list[tuple[Path, bool]]:
    """The folders to read, each once, and whether it is the package's own (optional)."""
    from .._resources import queries_path
    from ..schema import distinct_folders

    folders = distinct_folders([*args.queries, *([] if args.no_builtin else [queries_path()])])
    if not folders:
        raise ConfigurationError(
            "no operations to check: give --queries DIR, or leave out --no-builtin"
        )
    ours = queries_path().resolve()
    # The package's own operations given with --queries are the user's choice: not optional.
    given = {path.resolve() for path in args.queries}
    return [(path, path.resolve() == ours and ours not in given) for path in folders]


def run_diff(call: Invocation) -> int:
    try:
        from .. import schema as engine
    except ImportError as exc:  # graphql-core missing: say which extra brings it
        raise ConfigurationError(str(exc)) from None
    args = call.args
    # Operations first: a typo in a folder fails before any request.
    operations = [
        engine.read_operations(path, optional=optional) for path, optional in _folders(args)
    ]
    old = _load(args.old, args)
    new = _load(args.new, args)
    diff = engine.diff_schemas(old, new, operations)
    if args.json:
        report = engine.render_json(diff, fail_on_deprecated=args.fail_on_deprecated)
        print(json.dumps(report, indent=2, ensure_ascii=False), file=call.out)
    elif args.markdown:
        print(engine.render_markdown(diff), file=call.out)
    else:
        print(engine.render_text(diff), file=call.out)
    return diff.exit_status(fail_on_deprecated=args.fail_on_deprecated)
