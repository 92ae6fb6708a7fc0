"""The sandbox against hostile HTTP clients: whatever arrives at its GraphQL endpoint, the answer
is Kraken's error shape (`errors[0].message`, `extensions.errorType`), never a crash page, and the
server keeps serving everyone else.

Requests go through plain httpx, as in test_sandbox.py, so they pin down what the server does.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import loopback_past_proxies

from oeus_kraken.sandbox import MAX_BODY_BYTES, MAX_DOCUMENT_TOKENS, SandboxServer

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def assert_still_serving(http: httpx.Client, sandbox: SandboxServer) -> None:
    answer = http.post(sandbox.url, json={"query": "{ products { code } }"})
    assert answer.status_code == 200
    assert answer.json()["data"]["products"]


def assert_graphql_error(answer: httpx.Response, status: int, *words: str) -> None:
    assert answer.status_code == status, answer.text
    [error] = answer.json()["errors"]
    assert error["extensions"]["errorType"] == "VALIDATION"
    for word in words:
        assert word in error["message"], error["message"]


JSON = {"content-type": "application/json"}
BODIES_THAT_ARE_NOT_JSON = {
    "malformed": (b'{"query": ', JSON),
    "empty": (b"", JSON),
    "not utf-8": (b'{"query": "\xff\xfe"}', JSON),
    "nested 100,000 deep": (
        b'{"query": "{ __typename }", "variables": {"x": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}",
        JSON,
    ),
}
NOT_JSON_CONTENT = {
    "no content type": (b'{"query": "{ __typename }"}', {}),
    "text/plain": (b'{"query": "{ __typename }"}', {"content-type": "text/plain"}),
    "multipart form": (
        b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        b'{"query": "{ __typename }"}\r\n--b--\r\n',
        {"content-type": "multipart/form-data; boundary=b"},
    ),
}


# What each refusal's message names: the body's syntax, or the content type to send.
REFUSED = {
    **{name: (*request, "valid JSON") for name, request in BODIES_THAT_ARE_NOT_JSON.items()},
    **{name: (*request, "application/json") for name, request in NOT_JSON_CONTENT.items()},
}


@pytest.mark.parametrize("name", REFUSED)
def test_a_post_that_is_not_a_json_body_is_a_400_graphql_error_never_a_500(
    http: httpx.Client, sandbox: SandboxServer, name: str
) -> None:
    body, headers, says = REFUSED[name]

    answer = http.post(sandbox.url, content=body, headers=headers)

    assert_graphql_error(answer, 400, says)
    assert_still_serving(http, sandbox)


def test_a_json_body_with_a_charset_is_served(http: httpx.Client, sandbox: SandboxServer) -> None:
    answer = http.post(
        sandbox.url,
        content=b'{"query": "{ __typename }"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )

    assert answer.json() == {"data": {"__typename": "Query"}}


def test_a_body_over_the_cap_is_a_413_graphql_error(
    http: httpx.Client, sandbox: SandboxServer
) -> None:
    padding = "a" * MAX_BODY_BYTES
    body = f'{{"query": "{{ __typename }}", "variables": {{"x": "{padding}"}}}}'.encode()

    answer = http.post(sandbox.url, content=body, headers=JSON)

    assert_graphql_error(answer, 413, f"{MAX_BODY_BYTES:,} bytes")
    assert_still_serving(http, sandbox)


def test_a_body_streamed_past_the_cap_without_a_length_is_a_413_graphql_error(
    http: httpx.Client, sandbox: SandboxServer
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ __typename }", "x": "'
        for _ in range(MAX_BODY_BYTES // 65_536 + 1):
            yield b"a" * 65_536
        yield b'"}'

    answer = http.post(sandbox.url, content=chunks(), headers=JSON)

    assert_graphql_error(answer, 413, f"{MAX_BODY_BYTES:,} bytes")
    assert_still_serving(http, sandbox)


def test_a_document_of_10000_aliases_is_refused_before_it_runs(
    http: httpx.Client, sandbox: SandboxServer
) -> None:
    # Run, each alias is an error (no token), and graphql-core locates each error by scanning the
    # whole document: minutes of one core with every other client waiting.
    aliases = " ".join(f"a{i}: viewer {{ accounts {{ number }} }}" for i in range(10_000))

    answer = http.post(sandbox.url, json={"query": "{ " + aliases + " }"})

    assert_graphql_error(answer, 200, f"more than {MAX_DOCUMENT_TOKENS} tokens")
    assert "data" not in answer.json()
    assert_still_serving(http, sandbox)


def test_the_suite_reaches_its_loopback_servers_directly_whatever_proxy_the_environment_names(
    http: httpx.Client, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A newcomer behind a corporate proxy has HTTP(S)_PROXY set; the suite must still reach the
    # servers it starts on 127.0.0.1: conftest puts loopback in NO_PROXY when the suite starts.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    loopback_past_proxies(os.environ)  # as conftest does at the start, with these proxies set

    with httpx.Client(timeout=10) as client:
        assert_still_serving(client, sandbox)


def test_stopping_with_a_client_mid_request_answers_it_503_and_logs_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What Ctrl-C does to `oeus-kraken sandbox` while a slow client is still sending its body:
    # uvicorn waits its graceful 2 s, then cancels the request.
    server = SandboxServer().start()
    host, port = server.url.split("/")[2].split(":")
    client = socket.create_connection((host, int(port)))
    client.sendall(
        b"POST /v1/graphql/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    time.sleep(0.2)  # the request is under way

    with caplog.at_level(logging.INFO):
        server.stop()
    answer = client.recv(65_536).decode()
    client.close()

    assert answer.startswith("HTTP/1.1 503 "), answer
    assert "shutting down" in answer
    assert not [r for r in caplog.records if r.exc_info or "ASGI" in r.getMessage()], caplog.text
