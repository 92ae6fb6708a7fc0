"""A call cancelled while its token request is under way (a timeout scope, a task group failing,
`task.cancel()`) ends that token request for whoever waits for it, who then sends one of its own:
a cancellation is its caller's, never the endpoint's failure to share.

Real loopback servers (`HostileServer`); the token request is answered 0.6 s late, and the first
caller is cancelled 0.2 s in.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from auth_helpers import VIEWER_DATA
from hostile_server import HostileServer
from loopback_kraken import token_late

from oeus_kraken import APIKey, KrakenAuth

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
