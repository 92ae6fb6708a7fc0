"""What a rate limit's message tells the caller to wait: never less than the API's Retry-After
(a caller that waits what the line says, then calls again, must not be early)."""

from __future__ import annotations

import httpx
import pytest

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
