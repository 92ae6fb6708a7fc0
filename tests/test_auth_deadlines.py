"""Each call's own time limit (`timeout=`, `extensions={"timeout": ...}`) against a slow token
endpoint: a call ends by its own deadline, and only by its own.

Real loopback servers (`HostileServer`), a token request answered a second late: the limits are
what the test is about, so they are real time.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from auth_helpers import PRODUCTS_DATA, VIEWER_DATA
from hostile_server import HostileServer, Request, at_once
from loopback_kraken import token_late

from oeus_kraken import APIKey, APITimeoutError, KrakenClient, SyncKrakenClient

TOKEN_LATE = 1.0  # seconds the token endpoint takes to answer
SHORT = 0.3  # a call's timeout= shorter than that
LONG = 10.0  # one longer: the token arrives well within it


def _token_requests(server: HostileServer) -> int:
    return sum(b"obtainKrakenToken" in r.body for r in server.requests)


async def _short_then_long_async(url: str) -> list[Any]:
    async with KrakenClient(url, credentials=APIKey("APIKEY-deadline-71c2"), max_retries=0) as c:

        async def long_call() -> Any:
            await asyncio.sleep(0.05)  # the short call's token request is under way
            return await c.get_viewer(timeout=LONG)

        return list(
            await asyncio.gather(c.get_viewer(timeout=SHORT), long_call(), return_exceptions=True)
        )


def _short_then_long_sync(url: str) -> list[Any]:
    outcomes: list[Any] = [None, None]
    with SyncKrakenClient(url, credentials=APIKey("APIKEY-deadline-71c2"), max_retries=0) as c:

        def call(i: int, timeout: float, after: float) -> None:
            time.sleep(after)
            try:
                outcomes[i] = c.get_viewer(timeout=timeout)
            except Exception as exc:  # (the outcome is the test's to judge)
                outcomes[i] = exc

        threads = [
            threading.Thread(target=call, args=(0, SHORT, 0.0), daemon=True),
            threading.Thread(target=call, args=(1, LONG, 0.05), daemon=True),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    return outcomes


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_call_with_more_time_does_not_share_the_timeout_of_a_shorter_calls_token_request(
    kind: str,
) -> None:
    """Two calls need a token: the first, timeout=0.3, sends the token request, which the API
    answers after 1 s; the second, timeout=10, waits for it. The first times out at 0.3 s (its
    own limit); the second, with time left, gets its token (from a token request of its own) and
    its answer."""
    with HostileServer(token_late(TOKEN_LATE, VIEWER_DATA)) as server:
        if kind == "async":
            short, long = await _short_then_long_async(server.url)
        else:
            short, long = await asyncio.to_thread(_short_then_long_sync, server.url)
    assert isinstance(short, APITimeoutError)
    assert not isinstance(long, BaseException), type(long).__name__
    assert long.viewer is not None
    assert _token_requests(server) == 2


def _never_answers(request: Request) -> Iterator[tuple[bytes, float]]:
    yield b"", 2.5  # longer than the client's timeout: an answer past it is no answer
    yield from at_once(json.dumps({"data": PRODUCTS_DATA}).encode())


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_timeout_extension_naming_only_connect_keeps_the_clients_read_limit(
    kind: str,
) -> None:
    """README: each attempt ends within the read timeout, whatever the server does. A call that
    shortens only its connect timeout (extensions={"timeout": {"connect": 1.0}}, which
    check_call_keywords accepts: "some of the keys") keeps the client's read timeout (0.5 s),
    and times out at it, not when the server finally answers."""
    with HostileServer(_never_answers) as server:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await _products_with_connect_timeout_only(kind, server.url)
        assert time.monotonic() - started < 2.0


async def _products_with_connect_timeout_only(kind: str, url: str) -> None:
    extensions = {"timeout": {"connect": 1.0}}
    if kind == "async":
        async with KrakenClient(url, timeout=0.5, max_retries=0) as client:
            await client.get_products(extensions=extensions)
        return
    with SyncKrakenClient(url, timeout=0.5, max_retries=0) as sync_client:
        sync_client.get_products(extensions=extensions)
