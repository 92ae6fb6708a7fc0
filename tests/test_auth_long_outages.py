"""A client that keeps retrying for hours (a large `max_retries`, a long-running service whose
token endpoint is down): every failure stays a typed `KrakenError`, however many came before.

The waits between attempts are recorded, not slept (`record_waits`), and move the client's clock
on, so that a thousand retries take a moment.
"""

from __future__ import annotations

import logging

import httpx
import pytest
from auth_helpers import FakeClock, record_waits, token_response

from oeus_kraken import APIKey, APIStatusError, SyncKrakenClient

URL = "https://kraken.example.test/v1/graphql/"
BAD_GATEWAY = "<html><head><title>502 Bad Gateway</title></head><body>502</body></html>"
# More retries than a float's exponent reaches: 2.0 ** 1024 overflows.
MANY = 1100


def _client(
    clock: FakeClock, *, token_down: bool, data_down: bool
) -> tuple[SyncKrakenClient, dict[str, int]]:
    sent = {"token": 0, "data": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        if b"obtainKrakenToken" in request.content:
            sent["token"] += 1
            if token_down:
                return httpx.Response(502, html=BAD_GATEWAY)
            return httpx.Response(200, json=token_response(now=clock()))
        sent["data"] += 1
        if data_down:
            return httpx.Response(502, html=BAD_GATEWAY)
        return httpx.Response(200, json={"data": {"viewer": None}})

    client = SyncKrakenClient(
        URL,
        credentials=APIKey("APIKEY-long-outage-5e8a"),
        max_retries=MANY,
        clock=clock,
        http_client=httpx.Client(transport=httpx.MockTransport(handle)),
    )
    return client, sent


def test_a_query_retried_more_than_a_thousand_times_ends_in_an_api_status_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """max_retries=1100 against a data endpoint that answers 502 every time: after the last
    retry, the 502 as an APIStatusError. Before, the 1025th retry's backoff (0.5 * 2.0 ** 1024)
    raised OverflowError, untyped, from the retry policy."""
    caplog.set_level(logging.ERROR, logger="oeus_kraken")  # (a warning per retry)
    clock = FakeClock()
    waits = record_waits(monkeypatch, clock)
    client, sent = _client(clock, token_down=False, data_down=True)
    with client, pytest.raises(APIStatusError) as raised:
        client.get_viewer()
    assert raised.value.status_code == 502
    assert sent["data"] == MANY + 1
    assert max(waits.delays) <= 8.0  # the backoff's cap, whatever the retry's number


def test_a_token_endpoint_down_for_more_than_a_thousand_retries_still_gives_api_status_errors(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A token endpoint answering 502 to 1100 token requests in a row (a long outage under a
    long-running service): each call still ends in an APIStatusError, never an OverflowError."""
    caplog.set_level(logging.ERROR, logger="oeus_kraken")
    clock = FakeClock()
    record_waits(monkeypatch, clock)
    client, sent = _client(clock, token_down=True, data_down=False)
    with client, pytest.raises(APIStatusError) as raised:
        client.get_viewer()
    assert raised.value.status_code == 502
    assert sent["token"] > 1024
    assert sent["data"] == 0
