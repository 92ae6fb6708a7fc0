"""Running the sandbox: `SandboxServer` (a background thread, for tests and demos) and `serve`
(blocking, for the command line). Both listen on 127.0.0.1 only.

    with SandboxServer() as server:          # a free port
        server.url                           # 'http://127.0.0.1:54321/v1/graphql/'
        server.set_faults(bad_gateway=1)
"""

from __future__ import annotations

import copy
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import uvicorn
from typing_extensions import Self
from uvicorn.config import LOGGING_CONFIG

from ._app import GRAPHQL_PATH, SandboxApp, create_app
from ._auth import DEFAULT_ACCESS_TOKEN_LIFETIME, DEFAULT_REFRESH_TOKEN_LIFETIME
from ._banner import banner
from ._faults import Faults, SandboxStats
from ._state import SandboxState
from ._usage import FeedSettings

__all__ = ["DEFAULT_PORT", "LOOPBACK_HOST", "SandboxServer", "check_host", "serve"]

LOOPBACK_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_ALLOWED_HOSTS = frozenset({"127.0.0.1", "localhost"})


def check_host(host: str) -> str:
    """The address to bind for `host`: 127.0.0.1, or a ValueError for anything else."""
    if host not in _ALLOWED_HOSTS:
        raise ValueError(
            f"the Kraken sandbox listens on {LOOPBACK_HOST} only, refusing host {host!r}: it hands "
            "out tokens for published demo credentials and has an unauthenticated control "
            "endpoint, so it must not be reachable from other machines"
        )
    return LOOPBACK_HOST


def _check_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer from 0 (any free port) to 65535, got {port!r}")
    return port


def _bind(port: int) -> socket.socket:
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections whose socket says
    # TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK_HOST, port))
    except OSError:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://{LOOPBACK_HOST}:{port}{GRAPHQL_PATH}"


class _Uvicorn(uvicorn.Server):
    """uvicorn.Server that says when it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()


# The log levels at which uvicorn's start-up lines and its line per request are shown.
_VERBOSE_LEVELS = frozenset({"info", "debug", "trace"})


def _logging_config() -> dict[str, Any]:
    """uvicorn's own logging set-up, with its request lines on stderr like the rest of its log:
    stdout is the banner's, which a script may read the URL from."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    # Colours where the log goes, decided here: uvicorn's formatters ask sys.stdout.isatty(),
    # which colours a log redirected to a file when stdout is a terminal, and fails when there
    # is no stdout at all (`>&-`: None). NO_COLOR (no-color.org) turns them off.
    colours = not os.environ.get("NO_COLOR") and _is_terminal(sys.stderr)
    for formatter in config["formatters"].values():
        formatter["use_colors"] = colours
    return config


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _config(app: SandboxApp, port: int, *, log_level: str, quiet: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=LOOPBACK_HOST,
        port=port,
        # quiet: don't reconfigure the host process's logging (a test run, an embedding program).
        log_config=None if quiet else _logging_config(),
        log_level=log_level,
        access_log=not quiet and log_level in _VERBOSE_LEVELS,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=2,
    )


class SandboxServer:
    """The sandbox on a loopback port, served by uvicorn in a background thread.

    Use as a context manager (or call `start()` / `stop()`). `port=0` picks a free port; `url` is
    the GraphQL endpoint once started. The fault switches and counters are on the server object
    (they delegate to `state`). `schema`: another schema file to serve instead of schema.graphql
    (fields the seeded data does not fit resolve to typed placeholders).
    """

    def __init__(
        self,
        host: str = LOOPBACK_HOST,
        port: int = 0,
        *,
        clock: Callable[[], float] | None = None,
        access_token_lifetime: float = DEFAULT_ACCESS_TOKEN_LIFETIME,
        refresh_token_lifetime: float = DEFAULT_REFRESH_TOKEN_LIFETIME,
        startup_timeout: float = 30.0,
        log_level: str = "warning",
        schema: str | os.PathLike[str] | None = None,
    ) -> None:
        self.host = check_host(host)
        self.port = _check_port(port)
        self.state = SandboxState(
            clock=clock,
            access_token_lifetime=access_token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
        )
        self.startup_timeout = startup_timeout
        self.log_level = log_level
        self.schema = None if schema is None else Path(schema)
        self._socket: socket.socket | None = None
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._url: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The GraphQL endpoint, e.g. 'http://127.0.0.1:54321/v1/graphql/'."""
        if self._url is None:
            raise RuntimeError("the sandbox server is not running; call start() or use `with`")
        return self._url

    @property
    def base_url(self) -> str:
        """The server root, e.g. 'http://127.0.0.1:54321' (the control endpoints are under it)."""
        return self.url.removesuffix(GRAPHQL_PATH)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Start serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the sandbox server is already started")
        # The schema is built here, in the caller's thread (ValueError if it is no schema).
        app = create_app(self.state, schema=self.schema)
        sock = _bind(self.port)
        started = threading.Event()
        server = _Uvicorn(_config(app, 0, log_level=self.log_level, quiet=True), started.set)
        self._socket, self._server, self._error = sock, server, None
        self._thread = threading.Thread(
            target=self._run, args=(server, sock, started), name="oeus-kraken-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not started.wait(0.05):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox server did not start in {self.startup_timeout} s")
        if self._error is not None or not server.started:
            error = self._error
            self.stop()
            raise RuntimeError(f"the sandbox server failed to start: {error!r}") from error
        self._url = _url(sock)
        return self

    def _run(self, server: _Uvicorn, sock: socket.socket, started: threading.Event) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported by start(); a thread must not raise
            self._error = exc
        finally:
            started.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread to finish. Safe to call twice."""
        server, thread, sock = self._server, self._thread, self._socket
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout)
        if sock is not None:
            sock.close()
        self._server = self._thread = self._socket = None
        self._url = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self._url or "not running"
        return f"SandboxServer({where})"

    # -- faults and counters (see SandboxState) --------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def set_faults(self, **changes: object) -> Faults:
        """e.g. `set_faults(token_rate_limit=2, delay=0.2)`; see `Faults` for the switches."""
        return self.state.set_faults(**changes)

    def expire_tokens(self, code: str = "KT-CT-1124") -> None:
        """Every access token issued so far now gets `code`: KT-CT-1124 (signature expired)
        or KT-CT-1120 (token expired)."""
        self.state.expire_tokens(code)

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far now gets KT-CT-1135."""
        self.state.revoke_refresh_tokens()

    @property
    def stats(self) -> SandboxStats:
        return self.state.stats

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no GraphQL request is being answered; False if `timeout` ran out first.
        For tests: a request a `delay` fault holds back is answered seconds later, after its
        client has gone, and would otherwise be answered (and counted) in the next test."""
        deadline = time.monotonic() + timeout
        while self.state.switches.in_flight:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    # -- usage knobs (see SandboxState and _usage.py) --------------------------------------------

    def set_usage_churn(
        self, *, late_share: float = 0.05, revised_share: float = 0.05
    ) -> FeedSettings:
        """From now (sandbox time) on, `late_share` of intervals arrive two days late and
        `revised_share` arrive as estimates that are revised two days later."""
        return self.state.set_usage_churn(late_share=late_share, revised_share=revised_share)

    def fill_usage_gap(self) -> FeedSettings:
        """Deliver the seeded gap's intervals now (sandbox time)."""
        return self.state.fill_usage_gap()

    def reset(self) -> None:
        """Faults off, counters zero, issued tokens forgotten, usage knobs and points budgets
        back to their seeded state."""
        self.state.reset()


def serve(
    host: str = LOOPBACK_HOST,
    port: int = DEFAULT_PORT,
    *,
    out: TextIO | None = None,
    on_ready: Callable[[str], None] | None = None,
    clock: Callable[[], float] | None = None,
    access_token_lifetime: float = DEFAULT_ACCESS_TOKEN_LIFETIME,
    refresh_token_lifetime: float = DEFAULT_REFRESH_TOKEN_LIFETIME,
    log_level: str = "warning",
    schema: str | os.PathLike[str] | None = None,
) -> None:
    """Serve the sandbox in the foreground; returns after Ctrl-C. `port=0` picks a free port;
    `schema`: another schema file to serve instead of schema.graphql (ValueError if it is no
    schema).

    Once it accepts connections, prints its URL and the demo credentials to `out` (default
    stdout), then calls `on_ready(url)` if given. Quiet after that at the default `log_level`
    ("warning": problems only); at "info" (or "debug", "trace") uvicorn logs its start-up and
    a line per request to stderr.
    """
    check_host(host)
    _check_port(port)
    schema = None if schema is None else Path(schema)
    app = create_app(
        clock=clock,
        access_token_lifetime=access_token_lifetime,
        refresh_token_lifetime=refresh_token_lifetime,
        schema=schema,
    )
    sock = _bind(port)
    url = _url(sock)

    def ready() -> None:
        stream = out or sys.stdout
        print(banner(url, schema), file=stream)
        if log_level not in _VERBOSE_LEVELS:
            print("Requests are not logged (--log-level info logs each one).", file=stream)
        stream.flush()
        if on_ready is not None:
            on_ready(url)

    config = _config(app, sock.getsockname()[1], log_level=log_level, quiet=False)
    try:
        _Uvicorn(config, ready).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal; that is a normal
        # end for a foreground server.
        pass
    finally:
        sock.close()
