"""`oeus-kraken sandbox`: the local Kraken sandbox in the foreground, until Ctrl-C.

Quiet by default: one banner with its URL and the demo credentials, then nothing but warnings.
`--log-level info` adds uvicorn's start-up lines and a line per request.
"""

from __future__ import annotations

import errno
from typing import Any

from .._errors import ConfigurationError
from ._common import Invocation, add_command, non_empty_path, whole_number

# What binding the port can fail with: in use, not this machine's, below 1024 without the right.
_PORT_ERRORS = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
# The sandbox's own: it calls no API and syncs nothing, and Ctrl-C is how it ends, not a failure.
SANDBOX_EXIT_CODES_TEXT = (
    "0 stopped with Ctrl-C (its normal end), 2 bad arguments: a port in use or out of range, a "
    "schema file that cannot be read or served, the 'sandbox' extra not installed; 1 its banner "
    "cannot be written (a full disk)"
)


def register(commands: Any) -> None:
    sandbox = add_command(
        commands,
        "sandbox",
        summary="run a local Kraken sandbox server (no network, demo credentials)",
        description="Run the local Kraken sandbox on 127.0.0.1 until interrupted (Ctrl-C). It "
        "prints its URL and the demo credentials, then stays quiet (--log-level info: a line "
        "per request). --schema serves another schema (tomorrow's, say): fields the seeded "
        "data does not fit resolve to typed placeholders. Needs the 'sandbox' extra: pip "
        "install 'oeus-kraken[sandbox]'.",
        run=run_sandbox,
        parents=[],
        auth=None,
        epilog=f"Exit codes: {SANDBOX_EXIT_CODES_TEXT}.",
    )
    sandbox.add_argument("--port", type=whole_number, default=8000, help="port (0: any free port)")
    sandbox.add_argument(
        "--schema",
        metavar="FILE",
        type=non_empty_path,
        help="serve this schema file (SDL, or an introspection result saved as JSON) instead "
        "of the one oeus-kraken ships",
    )
    sandbox.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="warning",
        help="the server's log on stderr: warning (default) shows problems only; info adds "
        "its start-up lines and one line per request",
    )


def run_sandbox(call: Invocation) -> None:
    try:
        _serve(call)
    except KeyboardInterrupt:
        # Ctrl-C before uvicorn took SIGINT over (while the sandbox's modules are imported, or
        # the schema is built): still the sandbox's normal end, exit 0, as once it serves; not
        # the 130 of other commands.
        return


def _serve(call: Invocation) -> None:
    try:
        from ..sandbox import serve
    except ImportError as exc:
        raise ConfigurationError(str(exc)) from exc
    port = call.args.port
    try:
        serve(port=port, out=call.out, log_level=call.args.log_level, schema=call.args.schema)
    except ValueError as exc:  # a port out of range, a schema file that is no schema
        raise ConfigurationError(str(exc)) from exc
    except OSError as exc:
        if exc.errno not in _PORT_ERRORS:
            raise  # the banner could not be written (a full disk): main says so, exit 1
        raise ConfigurationError(
            f"could not serve on port {port}: {exc.strerror or exc}; "
            "choose another --port (0: any free port)"
        ) from exc
