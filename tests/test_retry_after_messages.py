"""What a rate limit's message tells the caller to wait: never less than the API's Retry-After
(a caller that waits what the line says, then calls again, must not be early)."""

from __future__ import annotations

import httpx
import pytest
from hostile_server import HostileServer, response_bytes

from oeus_kraken import CallOptions, RateLimitError, SyncKrakenClient

URL = "https://kraken.example.test/v1/graphql/"


@pytest.mark.parametrize(("retry_after", "said"), [("0.25", "1 second"), ("30.5", "31 seconds")])
def test_a_429s_message_never_says_to_wait_less_than_its_retry_after(
    retry_after: str, said: str
) -> None:
    page = httpx.Response(429, html="<html>429</html>", headers={"Retry-After": retry_after})
    http = httpx.Client(transport=httpx.MockTransport(lambda _request: page))
    with SyncKrakenClient(URL, http_client=http) as client, pytest.raises(RateLimitError) as raised:
        client.get_products(options=CallOptions(retry_rate_limits=False))
    assert raised.value.retry_after == float(retry_after)
    assert f"wait {said}" in str(raised.value)


@pytest.mark.parametrize("values", [("3600", "3600"), ("1", "3600")], ids=["same", "differing"])
def test_a_retry_after_given_twice_is_honoured_as_its_longest_wait_never_ignored(
    values: tuple[str, ...],
) -> None:
    """A proxy that adds its own copy of Retry-After (or a server that sets it twice) sends the
    field twice: read as none, the client retried within a second, twice, an API that had said
    to wait an hour; a RateLimitError at once, with the longest of the waits, as for one."""
    headers = "".join(f"Retry-After: {value}\r\n" for value in values)
    answer = response_bytes(b"{}", status="429 Too Many Requests", headers=headers)
    with (
        HostileServer(lambda _request: [(answer, 0.0)]) as server,
        SyncKrakenClient(server.url, max_retries=2) as client,
        pytest.raises(RateLimitError) as raised,
    ):
        client.get_products()
    assert raised.value.retry_after == 3600.0
    assert len(server.requests) == 1
