"""A call cancelled while its token request is under way (a timeout scope, a task group failing,
`task.cancel()`) ends that token request for whoever waits for it, who then sends one of its own:
a cancellation is its caller's, never the endpoint's failure to share.

Real loopback servers (`HostileServer`); the token request is answered 0.6 s late, and the first
caller is cancelled 0.2 s in.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings
from typing import Any

import httpx
import pytest
from auth_helpers import VIEWER_DATA
from hostile_server import HostileServer
from loopback_kraken import token_late, token_requests

from oeus_kraken import APIKey, KrakenAuth, KrakenClient, KrakenError

VIEWER_BODY = {"query": "query getViewer { viewer { email } }", "operationName": "getViewer"}


def test_under_trio_a_caller_waiting_for_a_cancelled_callers_token_request_gets_one() -> None:
    trio = pytest.importorskip("trio")
    outcome: dict[str, Any] = {}

    async def main(url: str) -> None:
        auth = KrakenAuth(APIKey("APIKEY-cancelled-3b8e"), url=url)
        async with httpx.AsyncClient(auth=auth, timeout=5) as http:

            async def cancelled() -> None:
                with trio.move_on_after(0.2):  # its token request is under way then
                    await http.post(url, json=VIEWER_BODY)

            async def waiting() -> None:
                await trio.sleep(0.05)  # the first's token request has started: it waits
                try:
                    outcome["status"] = (await http.post(url, json=VIEWER_BODY)).status_code
                except Exception as exc:  # (the outcome is the test's to judge)
                    outcome["status"] = type(exc).__name__

            async with trio.open_nursery() as nursery:
                nursery.start_soon(cancelled)
                nursery.start_soon(waiting)

    with HostileServer(token_late(0.6, VIEWER_DATA)) as server:
        trio.run(main, server.url)
    assert outcome["status"] == 200


def test_a_token_request_left_in_an_event_loop_that_stopped_does_not_hold_up_other_loops() -> None:
    """A call whose event loop stops running while its token request is under way (a loop
    left with the call pending: run_until_complete of something else, a notebook's loop) left
    that request under way for good: every later call, from any loop or thread, waited for it
    until its own time ran out, an APITimeoutError, "Retry later", for as long as the client
    lived. Past its sender's deadline it is abandoned, and a waiting caller sends its own."""
    with (
        warnings.catch_warnings(),
        HostileServer(token_late(0.6, VIEWER_DATA)) as server,
    ):
        # The connections of two event loops, one of them left: the test's tidying up, below.
        warnings.simplefilter("ignore", ResourceWarning)
        client = KrakenClient(server.url, credentials=APIKey("APIKEY-stalled-5c1d"), max_retries=0)
        left = asyncio.new_event_loop()
        try:
            first = left.create_task(client.get_viewer(timeout=0.3))
            left.run_until_complete(asyncio.sleep(0.1))  # its token request is under way
            viewer = asyncio.run(client.get_viewer(timeout=2.5))  # in another loop
        finally:
            with contextlib.suppress(KrakenError):
                left.run_until_complete(first)
            left.run_until_complete(client.aclose())
            left.run_until_complete(left.shutdown_asyncgens())  # (its answers' streams)
            left.close()
            del client, first
            gc.collect()
    assert viewer.viewer is not None
    assert len(token_requests(server)) == 2
