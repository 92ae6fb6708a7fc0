"""How much of our code one call walks: the distinct hand-written functions a steady-state
`get_viewer()` runs (token already held), counted with `sys.setprofile`, and the lines of the
auth/call core.

    .venv/bin/python bench/call_path.py            # both clients; --list names the functions

"Hand-written" is every function whose code lives in the `oeus_kraken` package: the generated
package (`oeus_kraken_generated`), httpx, pydantic and the standard library are not counted.
Two ways: with the client's own transport against a loopback HTTP server (what a user runs, the
deadline-keeping transport included: the headline figure), and over an `httpx.MockTransport`,
as `make bench` builds the client (the path the speed figures time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from _clients import async_calls, cases, sync_calls
from _fixtures import API_KEY, kraken_jwt, token_body

import oeus_kraken
from oeus_kraken import APIKey, KrakenClient, SyncKrakenClient
from oeus_kraken._compat import code_qualname

PACKAGE = Path(oeus_kraken.__file__).resolve().parent
# Calls before the one counted (see loopback_sync). The first call after a new token, once an
# hour, runs one function more (RequestBuilder._headers_for).
WARM_UP_CALLS = 2
# The auth/call core: `_auth.py + _tokens.py + base.py` before issue 19, and what replaced them.
# Every module named here that exists is counted.
CORE_MODULES = (
    "_auth.py",
    "_tokens.py",
    "base.py",
    "_call.py",
    "_steps.py",
    "_token_state.py",
    "_token_flow.py",
    "_request.py",
)


class _Recorder:
    """The distinct functions of ours called while it is on, in the order first seen."""

    def __init__(self) -> None:
        self.seen: dict[str, None] = {}

    def __call__(self, frame: FrameType, event: str, _arg: object) -> None:
        if event != "call":
            return
        path = Path(frame.f_code.co_filename)
        if PACKAGE in path.parents:
            name = code_qualname(frame.f_code)
            self.seen.setdefault(f"{path.relative_to(PACKAGE)}:{name}", None)

    def __enter__(self) -> _Recorder:
        sys.setprofile(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        sys.setprofile(None)


@contextmanager
def _loopback_server(answer: bytes) -> Iterator[str]:
    """A keep-alive HTTP/1.1 server on 127.0.0.1: a token for token requests, `answer` else."""
    token_answer = token_body(kraken_jwt())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            reply = token_answer if b"obtainKrakenToken" in body else answer
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/graphql/"
    finally:
        server.shutdown()
        server.server_close()


def _small_body() -> bytes:
    return next(c for c in cases() if c.key == "small").body


def loopback_sync() -> list[str]:
    with (
        _loopback_server(_small_body()) as url,
        SyncKrakenClient(url, credentials=APIKey(API_KEY)) as kraken,
    ):
        # Steady state: token held, connection open, and the request headers kept for that token
        # (the first call obtains the token; the next makes the headers that carry it, once).
        for _ in range(WARM_UP_CALLS):
            kraken.get_viewer()
        with _Recorder() as recorder:
            kraken.get_viewer()
        return list(recorder.seen)


def loopback_async() -> list[str]:
    async def main(url: str) -> list[str]:
        async with KrakenClient(url, credentials=APIKey(API_KEY)) as kraken:
            for _ in range(WARM_UP_CALLS):
                await kraken.get_viewer()
            with _Recorder() as recorder:
                await kraken.get_viewer()
            return list(recorder.seen)

    with _loopback_server(_small_body()) as url:
        return asyncio.run(main(url))


def mock_sync() -> list[str]:
    small = next(c for c in cases() if c.key == "small")
    with sync_calls(small) as calls:
        with _Recorder() as recorder:
            calls["oeus_kraken"]()
        return list(recorder.seen)


def mock_async() -> list[str]:
    small = next(c for c in cases() if c.key == "small")

    async def main() -> list[str]:
        async with async_calls(small) as calls:
            call: Callable[[], Awaitable[object]] = calls["oeus_kraken"]
            with _Recorder() as recorder:
                await call()
            return list(recorder.seen)

    return asyncio.run(main())


def core_lines() -> dict[str, int]:
    return {
        name: len((PACKAGE / name).read_text().splitlines())
        for name in CORE_MODULES
        if (PACKAGE / name).exists()
    }


RUNS: dict[str, Callable[[], list[str]]] = {
    "sync": loopback_sync,
    "async": loopback_async,
    "sync_mock_transport": mock_sync,
    "async_mock_transport": mock_async,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="name every function counted")
    parser.add_argument("--json", type=Path, help="also write the figures there, as JSON")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    for key, run in RUNS.items():
        found = run()
        figures[f"functions_{key}"] = len(found)
        what = key.replace("_", " ").replace(" mock transport", ", MockTransport")
        print(f"{what}: {len(found)} distinct hand-written functions in one get_viewer()")
        if args.list:
            print("".join(f"    {name}\n" for name in found), end="")
    lines = core_lines()
    figures["core_lines"], figures["core_modules"] = sum(lines.values()), lines
    parts = ", ".join(f"{name} {count}" for name, count in lines.items())
    print(f"auth/call core: {sum(lines.values())} lines ({parts})")
    if args.json:
        args.json.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
