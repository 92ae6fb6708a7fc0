"""`main`: the parser of every command, and what happens around a command's run.

Around every run: a failure is one line on stderr, `oeus-kraken COMMAND: what happened`, never a
traceback, with an exit code for its kind (EXIT_CODES); the library's logs reach stderr only
with -v; and a reader that goes away early (`| head -1`, `| grep -q`) ends the command quietly
with 141, the shell's code for a broken pipe (the usual convention: flush inside the guard, then
point stdout at /dev/null so that the interpreter's last flush has nowhere to fail).
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import decimal
import io
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from typing import TextIO

from .._config import PRODUCTION_URL, TEST_URL, shown_url
from .._errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    KrakenError,
    PermissionDeniedError,
    RateLimitError,
)
from .._version import __version__
from . import _accounts, _compare, _market, _premises, _sandbox, _schema, _usage, _usage_store
from ._common import (
    EXIT_CODES,
    SHARED_OPTIONS,
    SHARED_VALUE_OPTIONS,
    Invocation,
    Parser,
    RawDescriptionHelpFormatter,
    api_options,
)
from ._output import discard_stdout, printable

# The commands whose exit status 1 is a verdict, not an error: a failure to write what they
# print exits 2 (see _run).
VERDICT_COMMANDS = frozenset({"schema diff", "codegen"})

DESCRIPTION = """\
Octopus Energy USA Kraken API from the command line.

The options below are those every command that calls the API shares: they go before or after
the command (`oeus-kraken -v --url URL viewer`, `oeus-kraken viewer -v --url URL`); given in
both places, the one after the command wins. Each command's --help lists its own options.
"""

EPILOG = f"""\
credentials (first found wins): --organization-secret-key, --api-key, --email + --password,
--refresh-token, else the environment: KRAKEN_ORGANIZATION_SECRET_KEY, KRAKEN_API_KEY,
KRAKEN_EMAIL + KRAKEN_PASSWORD, KRAKEN_REFRESH_TOKEN. Prefer the environment: options show in
`ps` and in shell history.

URL: --url, else KRAKEN_URL, else production (an empty one is an error, not production)
  production  {PRODUCTION_URL}
  test API    {TEST_URL}

units: balances and payments are cents in the API, shown as dollars; rates are cents per kWh;
usage is kWh. --json keeps the API's numbers and adds a "units" object; --csv names the unit
in each column (balance_cents).

interval usage: `usage ACCOUNT --from DATE --to DATE` asks the API; `usage sync`, `export`,
`status` and `chart` keep and read a local store (see `oeus-kraken usage --help`).
`compare ESI_ID|ACCOUNT` prices the stored usage on every product on offer, cheapest first.

schema changes: `schema diff OLD NEW --queries DIR` says which of your operations a new schema
breaks, and which use deprecated elements (exit 1 when one breaks; see its --help).

exit codes: 0 ok, 1 API error, 2 bad arguments or environment (also: no credentials),
3 authentication failed, 4 API unreachable, 5 rate limited, 6 usage sync stopped early by the
hour's budget or --max-requests (resumable), 7 usage sync: some accounts failed (the others
synced), 8 no rows in the range asked for, 130 interrupted, 141 output closed early
(e.g. `| head`).

try it with no account and no network:
  oeus-kraken sandbox &                          # prints its URL and demo credentials
  KRAKEN_URL=<that url> KRAKEN_API_KEY=<demo key> oeus-kraken viewer
"""


def build_parser() -> Parser:
    from ..codegen import _command as codegen_command

    parser = Parser(
        prog="oeus-kraken",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=RawDescriptionHelpFormatter,
        parents=[api_options()],
    )
    parser.add_argument("--version", action="version", version=f"oeus-kraken {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    api = api_options()
    _sandbox.register(commands)
    codegen_command.add_parser(commands)
    commands.choices["codegen"].set_defaults(run=None, auth=None)
    # Ours, whose option help never breaks a line after a hyphen (the package has argparse's).
    commands.choices["codegen"].formatter_class = RawDescriptionHelpFormatter
    schema_diff = _schema.register(commands)
    _accounts.register(commands, api)
    _market.register(commands, api)
    _premises.register(commands, api)
    _usage.register(commands, api)
    _usage_store.register(commands, api)
    _compare.register(commands, api)
    for command in [*commands.choices.values(), schema_diff]:
        command.set_defaults(shared_options=_shared_options(command))
    return parser


def _shared_options(command: argparse.ArgumentParser) -> frozenset[str]:
    """Which of SHARED_OPTIONS this command has (each declared with no default)."""
    return frozenset(
        dest for dest in SHARED_OPTIONS if command.get_default(dest) is argparse.SUPPRESS
    )


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command and its options. A shared option may come before the command or after it
    (after wins); one before a command that has no such option is refused, not ignored."""
    parser = build_parser()
    args = parser.parse_args(route(argv))
    for dest, default in SHARED_OPTIONS.items():
        if dest in args.shared_options:
            if not hasattr(args, dest):
                setattr(args, dest, default)
        elif hasattr(args, dest):
            option = "-v" if dest == "verbose" else f"--{dest.replace('_', '-')}"
            parser.error(
                f"{option} does not apply to `{args.command}`: it has no such option "
                f"(`oeus-kraken {args.command} --help` lists them)"
            )
    return args


def route(argv: Sequence[str]) -> list[str]:
    """`usage sync ...` (two words) as the command "usage sync"; `usage ACCOUNT ...` as is.
    The command is the first word that is neither an option nor an option's value."""
    words = list(argv)
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if _takes_value(words[i]) else 1
    following = words[i + 1] if i + 1 < len(words) else None
    if i < len(words) and words[i] == "usage" and following in _usage.STORE_VERBS:
        return [*words[:i], f"usage {following}", *words[i + 2 :]]
    return words


def _takes_value(word: str) -> bool:
    """`--url` (or argparse's abbreviation of it, `--ur`) without `=VALUE`."""
    if "=" in word or len(word) < 3:
        return False
    return sum(option.startswith(word) for option in SHARED_VALUE_OPTIONS) == 1


def exit_code(error: KrakenError) -> int:
    from ..usage import MissingExtraError, NoUsageError

    if isinstance(error, (ConfigurationError, MissingExtraError)):
        return EXIT_CODES["usage"]
    if isinstance(error, NoUsageError):
        return EXIT_CODES["no_rows"]
    if isinstance(error, AuthenticationError):
        return EXIT_CODES["auth"]
    if isinstance(error, APIConnectionError):
        return EXIT_CODES["unreachable"]
    if isinstance(error, RateLimitError):
        return EXIT_CODES["rate_limited"]
    return EXIT_CODES["error"]


# The library's advice speaks to a program: a keyword argument to raise, a client to create
# again, code to regenerate. A command's user has none of these; each such sentence, and what
# the user can do instead.
_PROGRAM_ADVICE = (
    ("Retry later, or raise timeout=.", "Run the command again later."),
    ("retry later, or raise timeout=.", "run the command again later."),
    (
        "Ask for less (smaller pages), or raise max_response_bytes=.",
        "Check that the URL is Kraken's GraphQL endpoint (for usage: ask for fewer days).",
    ),
    (
        "regenerate from a fresh schema (`make schema`, or `oeus-kraken codegen` with a new "
        "--schema).",
        "upgrade oeus-kraken (pip install --upgrade oeus-kraken).",
    ),
)
_CORRECT_THE_CREDENTIAL = re.compile(
    r"The client will not send this .+? again: create it with a corrected one\."
)
_ASK_FOR_A_NEW_CLIENT = (
    "Create the client with a new RefreshToken, or with an APIKey, OrganizationSecretKey or "
    "EmailPassword."
)
_POINT_THE_CLIENT = "Point the client at the GraphQL endpoint itself."
_URL_ADVICE = (_POINT_THE_CLIENT, "Check that the URL is the Kraken GraphQL endpoint itself.")


def _give_the_endpoint(call: Invocation) -> str:
    """What to change so that the URL is the endpoint: the option or variable that gave it."""
    if call.url_source in ("--url", "KRAKEN_URL"):
        return f"set {call.url_source} to the GraphQL endpoint itself"
    return "give --url or KRAKEN_URL the GraphQL endpoint itself"


def _status_advice(error: APIStatusError, call: Invocation) -> str:
    """What to do about an HTTP status with no GraphQL answer, which the library's line only
    names (`HTTP 502 Bad Gateway: <the page>`): a redirect is not followed (the URL is not the
    endpoint), a 4xx is most often a wrong URL, a 5xx is the API's own trouble."""
    status = error.status_code or 0
    if 300 <= status < 400:
        return f"the URL redirects, which the command does not follow: {_give_the_endpoint(call)}"
    if 400 <= status < 500:
        return f"check the URL (from {call.url_source}): is it Kraken's GraphQL endpoint?"
    return "the API is failing: run the command again later"


def _in_a_users_words(text: str, call: Invocation) -> str:
    """`text` with the library's advice to a program replaced by the command line's."""
    for program, user in _PROGRAM_ADVICE:
        text = text.replace(program, user)
    endpoint = _give_the_endpoint(call)
    text = text.replace(_POINT_THE_CLIENT, f"{endpoint[0].upper()}{endpoint[1:]}.")
    source = call.credential_source or "the credential"
    text = _CORRECT_THE_CREDENTIAL.sub(f"Correct {source} and run the command again.", text)
    return text.replace(
        _ASK_FOR_A_NEW_CLIENT,
        f"Set a new refresh token ({source}), or another credential (see --help).",
    )


def message(error: KrakenError, call: Invocation) -> str:
    """The error's own words, with what this run knows and the library does not: which URL,
    from where; which account; which option to change."""
    text = _in_a_users_words(str(error), call)
    if isinstance(error, APIConnectionError) and call.url:
        # The library names the URL it tried; the run adds where that URL came from.
        return f"{text} (URL {shown_url(call.url)}, from {call.url_source})"
    if error.error_code == "KT-CT-4177" and call.account:
        return (
            f"account {call.account} not found, or not visible to these credentials "
            "(KT-CT-4177): check the account number; `oeus-kraken viewer` lists the accounts "
            "an account user's credentials see"
        )
    if isinstance(error, RateLimitError):
        return _rate_limited(error)
    # (Not a line in which the library already says what to do about the URL: a redirected
    # token request, a 401 to one. Judged by the library's words, not by the page's.)
    said = str(error)
    if isinstance(error, APIStatusError) and not any(advice in said for advice in _URL_ADVICE):
        return f"{text} ({_status_advice(error, call)})"
    if isinstance(error, PermissionDeniedError) and getattr(call.args, "auth", None) == (
        "organisation"
    ):
        return (
            f"{text} ({call.command} is for affiliates: it needs an organisation's secret key, "
            "KRAKEN_ORGANIZATION_SECRET_KEY)"
        )
    return text


def _rate_limited(error: RateLimitError) -> str:
    """In a user's words, from the error's fields: what said no, and when to run again (the
    library's own text speaks to a program that will retry, this process will not)."""
    from .._durations import say_seconds

    said = error.error_code or (f"HTTP {error.status_code}" if error.status_code else None)
    where = f"{error.operation_name}: " if error.operation_name else ""
    code = f" ({said})" if said else ""
    if error.retry_after:
        when = f"run the command again in {say_seconds(error.retry_after)}"
    else:
        when = "run the command again later (Kraken renews its allowance every hour)"
    return (
        f"{where}the Kraken API is rate limiting these requests{code}; this is not a "
        f"credentials problem: {when}"
    )


class _ShownURLs(logging.Filter):
    """httpx's line per request names the request's URL, query included (`?apikey=...`):
    each URL in a record's arguments is logged as `shown_url` shows it."""

    def filter(self, record: logging.LogRecord) -> bool:
        import httpx

        if isinstance(record.args, tuple):
            record.args = tuple(
                shown_url(str(arg)) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


@contextlib.contextmanager
def library_logs(verbosity: int) -> Iterator[None]:
    """The library's log records on stderr with -v (INFO) or -vv (DEBUG, and httpx's line per
    request); none otherwise (a failure is reported once, by main)."""
    library = logging.getLogger("oeus_kraken")
    http = logging.getLogger("httpx")
    levels = library.level, http.level
    handler: logging.Handler
    if verbosity:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("oeus-kraken: %(levelname)s: %(message)s"))
        handler.addFilter(_ShownURLs())
        library.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
        if verbosity > 1:
            http.setLevel(logging.INFO)
            http.addHandler(handler)
    else:
        handler = logging.NullHandler()
    library.addHandler(handler)
    try:
        yield
    finally:
        library.removeHandler(handler)
        http.removeHandler(handler)
        library.setLevel(levels[0])
        http.setLevel(levels[1])


def _say(line: str) -> None:
    """One line on stderr; a closed stderr is not worth a traceback."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def _run(argv: Sequence[str], out: TextIO) -> int:
    try:
        args = parse(argv)
    except KeyboardInterrupt:
        # Ctrl-C while the command line is read (argparse builds every command's parser, a
        # tenth of a second): still the one line an interrupted run ends with, not silence.
        _say("oeus-kraken: interrupted (Ctrl-C)")
        return EXIT_CODES["interrupted"]
    call = Invocation(command=args.command, args=args, out=out)
    try:
        if args.command == "codegen":
            from ..codegen import _command as codegen_command

            return codegen_command.run(args, out)
        with library_logs(getattr(args, "verbose", 0)):
            code = args.run(call)
        _flush(out)  # here, where a failure is still this command's
        return EXIT_CODES["ok"] if code is None else int(code)
    except KrakenError as error:
        # printable: the message may quote the API (its errors' text), which must not add a
        # line to the one a failure is, nor act on the terminal.
        _say(f"oeus-kraken {args.command}: {printable(message(error, call))}")
        return exit_code(error)
    except (decimal.DecimalException, OverflowError) as error:
        # A sum made of the API's numbers (a month's cost, a discount in percent) that no
        # number can hold: 1e999999 overflows, 1e30 cents rounded to the cent needs more than
        # the 28 digits decimal works with. The answer is unusable, like one of the wrong shape.
        _say(
            f"oeus-kraken {args.command}: a number in the API's answer is too large to work "
            f"with ({type(error).__name__}); the answer is not usable, try again later"
        )
        return EXIT_CODES["error"]
    except KeyboardInterrupt:
        # One line, so that an exit with nothing said is never the answer (a usage sync, which
        # has more to say, says it and returns 130 itself).
        line = f"oeus-kraken {args.command}: interrupted (Ctrl-C)"
        if call.making is not None:
            # As after a timeout: the mutation may have been carried out, its answer lost.
            line += f" while asking the API for {call.making}, which it may have made: check "
            line += "before you ask again"
        _say(line)
        return EXIT_CODES["interrupted"]
    except BrokenPipeError:
        raise  # main's: the reader went away
    except UnicodeEncodeError as error:
        if not _is_the_outputs(error, out):
            raise
        # An ASCII stdout (a non-UTF-8 locale with Python's UTF-8 mode off, PYTHONIOENCODING)
        # cannot carry a "¢" in a header or an accent in an API text; what could not be shown
        # is said in the \x escape, as stderr shows it.
        _say(
            f"oeus-kraken {args.command}: cannot write the output: its encoding {error.encoding} "
            f"cannot show {error.object[error.start : error.end]!a}; use a UTF-8 locale (e.g. "
            "LC_ALL=C.UTF-8) or PYTHONIOENCODING=utf-8"
        )
        return EXIT_CODES["usage" if args.command in VERDICT_COMMANDS else "error"]
    except OSError as error:
        # What the command prints could not be written (a full disk, /dev/full); the files
        # the commands write say so as KrakenErrors of their own.
        if out is sys.stdout:
            discard_stdout()  # what is still buffered must not fail again at exit
        # One that names a file came from a path the OS refused to look at (a name too long,
        # a folder that may not be searched), often a path read (--queries): not "written".
        what = f"use {error.filename}" if error.filename else "write the output"
        _say(f"oeus-kraken {args.command}: cannot {what}: {error.strerror or error}")
        # Where 1 is a verdict (schema diff: an operation breaks; codegen --check: stale), an
        # output that could not be written must not read as one: 2, as for the environment.
        return EXIT_CODES["usage" if args.command in VERDICT_COMMANDS else "error"]
    finally:
        call.close()


def _is_the_outputs(error: UnicodeEncodeError, out: TextIO) -> bool:
    """Whether `error` is one of writing to `out` in its encoding (not, say, a header's)."""
    encoding = getattr(out, "encoding", None)
    if not isinstance(encoding, str):
        return False
    try:
        return codecs.lookup(encoding).name == codecs.lookup(error.encoding).name
    except LookupError:
        return False


def _flush(*streams: TextIO | None) -> None:
    for stream in streams:
        if stream is not None:  # sys.stdout is None when the process has no fd 1 (`>&-`)
            stream.flush()


def _exit_at_once(code: int) -> None:
    """End the program now, as Ctrl-C asked: what it printed is flushed and every file it wrote
    is closed, so what is left is the interpreter's teardown of every loaded module (a few
    tenths of a second), and threads abandoned in a request."""
    _flush(sys.stderr)
    os._exit(code)


class _Nowhere(io.StringIO):
    """What a process started with no stdout (`>&-`, sys.stdout None) prints to: dropped, as
    print() drops it. The commands also write with out.write (CSV, JSON rows), which on None
    was a traceback. Likewise with no stderr (below)."""

    def write(self, text: str) -> int:
        return len(text)


def _help_not_written(error: OSError) -> int:
    discard_stdout()
    _say(f"oeus-kraken: cannot write the output: {error.strerror or error}")
    return EXIT_CODES["error"]


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run `oeus-kraken ARGV...` (default: sys.argv[1:]), printing to `out` (default stdout);
    returns the exit code. argparse's --help and argument errors raise SystemExit."""
    stream = out if out is not None else sys.stdout
    if stream is None:
        stream = _Nowhere()
    if sys.stderr is None:  # `2>&-`: print(line, file=None) would print a failure to stdout,
        sys.stderr = _Nowhere()  # into the CSV or JSON a script reads
    arguments = sys.argv[1:] if argv is None else argv
    try:
        try:
            code = _run(arguments, stream)
        except SystemExit:  # argparse: --help printed, or an argument error
            try:
                _flush(sys.stdout)
            except BrokenPipeError:
                raise  # below: the reader went away
            except OSError as error:
                # The help or version could not be written (a full disk): one line, as for a
                # command's output; before, a traceback (and exit 1, or 120 for --version).
                return _help_not_written(error)
            raise
        except BrokenPipeError:
            raise  # below: the reader went away
        except OSError as error:  # the same, met by the print itself (Parser._print_message)
            return _help_not_written(error)
        except KeyboardInterrupt:
            code = EXIT_CODES["interrupted"]
        _flush(stream, sys.stdout)
        if code == EXIT_CODES["interrupted"] and argv is None:
            _exit_at_once(code)
        return code
    except BrokenPipeError:
        if stream is sys.stdout or out is None:
            discard_stdout()
        return EXIT_CODES["broken_pipe"]
