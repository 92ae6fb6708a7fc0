"""The authentication contract, rule by rule.

Each numbered section proves one rule of the auth issue; most tests run twice, against
`KrakenClient` (async) and `SyncKrakenClient`, through one test body (`Driver`). Requests are
served by `FakeKraken` behind pytest-httpx and counted exactly; time is the client's `clock=`,
moved by hand. The contract tests at the end cover credentials, URLs, client lifecycle,
`from_env()` and the error hierarchy.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pydantic
import pytest
from auth_helpers import (
    API_KEY_VALUE,
    CREDENTIALS,
    EMAIL,
    MARGIN,
    OBTAIN,
    ORG_KEY,
    PASSWORD,
    REFRESH,
    REFRESH_TOKEN_VALUE,
    START,
    TOKEN_INPUTS,
    TOKEN_LIFETIME,
    URL,
    VIEWER_DATA,
    Delayed,
    Driver,
    FakeClock,
    FakeKraken,
    Reply,
    Sent,
    data_response,
    error_reply,
    error_response,
    json_response,
    meeting_point,
    response_reply,
)
from conftest import connector

import oeus_kraken
from oeus_kraken import (
    PRODUCTION_URL,
    TEST_URL,
    APIConnectionError,
    APIKey,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    EmailPassword,
    GraphQLError,
    InvalidResponseError,
    KrakenClient,
    KrakenError,
    OrganizationSecretKey,
    PermissionDeniedError,
    RateLimitError,
    RefreshToken,
    SyncKrakenClient,
)
from oeus_kraken._steps import Signal

CLIENT_CLASSES = {"async": KrakenClient, "sync": SyncKrakenClient}


@pytest.fixture
async def connect(
    kind: str, clock: FakeClock, server: FakeKraken
) -> AsyncIterator[Callable[..., Driver]]:
    """Make a client of the test's kind on the fake server (API key, fake clock, margin 300 s).
    Retries are off: these rules are about what one call does; tests/test_faults.py covers
    retrying."""
    connect, made = connector(kind, clock, server, max_retries=0)
    yield connect
    for driver in made:
        await driver.close()


@pytest.fixture
def kraken(connect: Callable[..., Driver]) -> Driver:
    """A client with an API key."""
    return connect()


def operations(sent: list[Sent]) -> list[str | None]:
    return [s.operation for s in sent]


def into_refresh_window(clock: FakeClock, issued_at: float = START) -> None:
    """Move the clock to 1 s inside the refresh margin of a token issued at `issued_at`."""
    clock.now = issued_at + TOKEN_LIFETIME - MARGIN + 1


# Rule 1: lazy token, obtained through the generated getKrakenToken, credentials as variables


async def test_creating_a_client_sends_no_request_until_the_first_authenticated_call(
    connect: Callable[..., Driver], server: FakeKraken
) -> None:
    kraken = connect()
    assert server.sent == []

    await kraken.call("get_viewer")

    assert operations(server.sent) == [OBTAIN, "getViewer"]


@pytest.mark.parametrize("credential", list(CREDENTIALS))
async def test_first_authenticated_call_obtains_a_token_with_credentials_only_as_variables(
    connect: Callable[..., Driver], server: FakeKraken, credential: str
) -> None:
    kraken = connect(CREDENTIALS[credential])

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer.email == EMAIL
    token_request, data_request = server.sent
    # A refresh token is renewed as refreshKrakenToken; primary credentials as getKrakenToken.
    expected = REFRESH if credential == "refresh_token" else OBTAIN
    assert token_request.operation == expected
    assert f"mutation {expected}($input: ObtainJSONWebTokenInput!)" in token_request.query
    assert "obtainKrakenToken(input: $input)" in token_request.query
    assert token_request.variables == {"input": TOKEN_INPUTS[credential]}
    for secret in TOKEN_INPUTS[credential].values():
        if secret != EMAIL:
            assert secret not in token_request.query
    assert data_request.operation == "getViewer"


async def test_the_token_is_obtained_once_and_reused_by_later_calls(
    kraken: Driver, server: FakeKraken, clock: FakeClock
) -> None:
    for _ in range(3):
        await kraken.call("get_viewer")
        clock.advance(60)

    assert operations(server.sent) == [OBTAIN] + ["getViewer"] * 3


# Rule 2: `Authorization: <token>` on authenticated calls, never on token requests


async def test_authenticated_calls_send_the_bare_token_as_authorization(
    kraken: Driver, server: FakeKraken
) -> None:
    await kraken.call("get_viewer")

    (data_request,) = server.data_requests
    assert data_request.authorization == server.issued_tokens[0]
    assert not data_request.authorization.startswith(("JWT ", "Bearer "))


async def test_token_requests_never_carry_an_authorization_header_even_with_a_token_held(
    kraken: Driver, server: FakeKraken, clock: FakeClock
) -> None:
    await kraken.call("get_viewer")  # obtain
    into_refresh_window(clock)
    await kraken.call("get_viewer")  # refresh, while the old token is still held
    server.queue("getViewer", error_reply("KT-CT-1143"))
    await kraken.call("get_viewer")  # token rejected: re-obtain with the API key

    assert operations(server.token_requests) == [OBTAIN, REFRESH, OBTAIN]
    for token_request in server.token_requests:
        assert "authorization" not in token_request.headers
    assert len(server.data_requests) == 4
    for data_request in server.data_requests:
        assert data_request.authorization in server.issued_tokens


# Rule 3: expiry from the `exp` claim; refresh; dead or rejected refresh tokens


async def test_the_token_is_refreshed_only_within_refresh_margin_of_its_exp(
    kraken: Driver, server: FakeKraken, clock: FakeClock
) -> None:
    await kraken.call("get_viewer")
    clock.now = START + TOKEN_LIFETIME - MARGIN - 1  # just outside the margin
    await kraken.call("get_viewer")
    assert operations(server.token_requests) == [OBTAIN]

    clock.now = START + TOKEN_LIFETIME - MARGIN + 1  # just inside it
    await kraken.call("get_viewer")

    assert operations(server.token_requests) == [OBTAIN, REFRESH]
    refresh = server.token_requests[1]
    assert refresh.variables == {"input": {"refreshToken": server.issued_refresh_tokens[0]}}
    assert server.data_requests[-1].authorization == server.issued_tokens[1]


@pytest.mark.parametrize("lifetime", [900, 7200], ids=["short-lived", "long-lived"])
async def test_expiry_comes_from_the_exp_claim_not_a_fixed_lifetime(
    kraken: Driver, server: FakeKraken, clock: FakeClock, lifetime: int
) -> None:
    server.token_lifetime = lifetime
    await kraken.call("get_viewer")

    clock.now = START + lifetime - MARGIN - 1
    await kraken.call("get_viewer")
    assert len(server.token_requests) == 1
    clock.now = START + lifetime - MARGIN + 1
    await kraken.call("get_viewer")
    assert len(server.token_requests) == 2


async def test_a_token_arriving_with_less_than_the_margin_left_is_used_not_refreshed_at_once(
    kraken: Driver, server: FakeKraken, clock: FakeClock
) -> None:
    """A token shorter-lived than refresh_margin (or a clock ahead of the API's) must not make
    every call, or the token request itself, refresh again: it is used until halfway through
    its remaining life."""
    server.token_lifetime = MARGIN // 2  # arrives already inside the refresh margin
    await kraken.call("get_viewer")
    clock.now = START + MARGIN // 4 - 1  # before halfway
    await kraken.call("get_viewer")
    assert operations(server.token_requests) == [OBTAIN]

    clock.now = START + MARGIN // 4 + 1  # past halfway
    await kraken.call("get_viewer")
    assert operations(server.token_requests) == [OBTAIN, REFRESH]
    assert len(server.data_requests) == 3


@pytest.mark.parametrize(
    "source",
    ["payload field (token is not a JWT)", "JWT exp claim (payload has no exp)"],
)
async def test_expiry_is_read_from_the_payload_field_or_the_jwt_itself(
    kraken: Driver, server: FakeKraken, clock: FakeClock, source: str
) -> None:
    lifetime = 900  # not what any fixed guess would use
    if source.startswith("payload"):
        token = server.new_token(token="opaque-TOKENSECRET", payload={"exp": START + lifetime})
    else:
        token = server.new_token(lifetime=lifetime, payload={"sub": "kraken|account-user:1"})
    server.queue(OBTAIN, response_reply(data_response({"obtainKrakenToken": token})))
    await kraken.call("get_viewer")
    assert server.data_requests[0].authorization == token["token"]

    clock.now = START + lifetime - MARGIN - 1
    await kraken.call("get_viewer")
    assert len(server.token_requests) == 1
    clock.now = START + lifetime - MARGIN + 1
    await kraken.call("get_viewer")
    assert operations(server.token_requests) == [OBTAIN, REFRESH]


async def test_a_refresh_token_past_refresh_expires_in_is_not_sent_and_credentials_obtain_anew(
    kraken: Driver, server: FakeKraken, clock: FakeClock
) -> None:
    # refreshExpiresIn is an absolute Unix time: START + 1000, long before the access token's
    # refresh window. (Read as a duration, it would look valid for decades.)
    server.refresh_lifetime = 1000
    await kraken.call("get_viewer")
    into_refresh_window(clock)

    await kraken.call("get_viewer")

    assert operations(server.token_requests) == [OBTAIN, OBTAIN]
    assert server.token_requests[1].variables == {"input": TOKEN_INPUTS["api_key"]}
    assert server.data_requests[-1].authorization == server.issued_tokens[1]


@pytest.mark.parametrize("code", ["KT-CT-1134", "KT-CT-1135"])
async def test_a_rejected_refresh_token_is_dropped_and_credentials_obtain_anew(
    kraken: Driver, server: FakeKraken, clock: FakeClock, code: str
) -> None:
    await kraken.call("get_viewer")
    into_refresh_window(clock)
    server.queue(REFRESH, error_reply(code))

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer is not None
    assert operations(server.token_requests) == [OBTAIN, REFRESH, OBTAIN]
    assert server.token_requests[2].variables == {"input": TOKEN_INPUTS["api_key"]}
    # The rejected refresh token is never sent again: the next refresh uses the new one.
    into_refresh_window(clock, issued_at=clock.now)
    await kraken.call("get_viewer")
    assert operations(server.token_requests) == [OBTAIN, REFRESH, OBTAIN, REFRESH]
    assert server.token_requests[3].variables == {
        "input": {"refreshToken": server.issued_refresh_tokens[1]}
    }


async def test_refresh_token_only_client_raises_when_its_refresh_token_has_expired(
    connect: Callable[..., Driver], server: FakeKraken, clock: FakeClock
) -> None:
    server.refresh_lifetime = 1000
    kraken = connect(CREDENTIALS["refresh_token"])
    await kraken.call("get_viewer")
    into_refresh_window(clock)

    with pytest.raises(AuthenticationError, match="refresh token") as raised:
        await kraken.call("get_viewer")

    assert "expired" in str(raised.value)
    assert operations(server.sent) == [REFRESH, "getViewer"]  # the dead one was not sent


@pytest.mark.parametrize("code", ["KT-CT-1134", "KT-CT-1135"])
async def test_refresh_token_only_client_raises_when_its_refresh_token_is_rejected(
    connect: Callable[..., Driver], server: FakeKraken, code: str
) -> None:
    kraken = connect(CREDENTIALS["refresh_token"])
    server.queue(REFRESH, error_reply(code))

    with pytest.raises(AuthenticationError, match="refresh token"):
        await kraken.call("get_viewer")
    with pytest.raises(AuthenticationError, match="refresh token"):
        await kraken.call("get_viewer")

    assert operations(server.sent) == [REFRESH]


# Rule 4: single flight; the lock covers obtaining the token, never the whole request


def concurrency(kind: str) -> int:
    return 50 if kind == "async" else 20  # asyncio tasks / threads


def slow_token(server: FakeKraken) -> Callable[[Sent], Delayed]:
    return lambda sent: Delayed(0.05, server.issue_token(sent))


async def test_concurrent_calls_needing_a_token_make_exactly_one_token_request(
    kraken: Driver, server: FakeKraken, kind: str
) -> None:
    server.set_default(OBTAIN, slow_token(server))
    count = concurrency(kind)

    results = await kraken.concurrently(count)

    assert len(results) == count
    assert len(server.token_requests) == 1
    assert len(server.data_requests) == count
    assert {s.authorization for s in server.data_requests} == {server.issued_tokens[0]}


async def test_callers_waiting_for_a_token_request_are_woken_with_its_token_already_held(
    kraken: Driver, server: FakeKraken, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Woken before the token is held, a waiting thread finds neither a token nor a request under
    # way and sends a token request of its own: 3 for 20 threads on a busy machine. Checked at
    # the wake-up itself, so the race need not be won to be seen.
    held_at_wake_up: list[bool] = []
    wake = Signal.set

    def set_and_look(signal: Signal) -> None:
        held_at_wake_up.append(kraken.client.auth.fresh_token() is not None)
        wake(signal)

    monkeypatch.setattr(Signal, "set", set_and_look)

    await kraken.call("get_viewer")

    assert held_at_wake_up == [True]
    assert len(server.token_requests) == 1


async def test_concurrent_calls_needing_a_refresh_make_exactly_one_refresh(
    kraken: Driver, server: FakeKraken, clock: FakeClock, kind: str
) -> None:
    await kraken.call("get_viewer")
    into_refresh_window(clock)
    server.set_default(REFRESH, slow_token(server))

    await kraken.concurrently(concurrency(kind))

    assert operations(server.token_requests) == [OBTAIN, REFRESH]


async def test_concurrent_calls_with_a_token_held_are_not_serialised(
    kraken: Driver, server: FakeKraken, kind: str
) -> None:
    await kraken.call("get_viewer")
    # Each answer waits until both requests are in flight; serialised requests would never get
    # there (the first would give up after 1 s with HTTP 500).
    server.set_default(
        "getViewer", meeting_point(kind, 2, response_reply(data_response(VIEWER_DATA)))
    )

    results = await kraken.concurrently(2)

    assert [r.viewer.email for r in results] == [EMAIL, EMAIL]
    assert len(server.token_requests) == 1


# Rule 5: a rejected token is replaced once and the call retried once, never a loop

TOKEN_REJECTIONS = [
    "KT-CT-1124",
    "KT-CT-1125",
    "KT-CT-1126",
    "KT-CT-1127",
    "KT-CT-1143",
    "KT-CT-1144",
    "HTTP 401",
]


def rejection(code: str) -> Callable[[Sent], httpx.Response]:
    if code == "HTTP 401":
        return response_reply(httpx.Response(401, text="Unauthorized"))
    return error_reply(code, message="Signature of the JWT has expired.")


@pytest.mark.parametrize("code", TOKEN_REJECTIONS)
async def test_a_rejected_token_is_replaced_once_and_the_call_retried_once(
    kraken: Driver, server: FakeKraken, code: str
) -> None:
    server.queue("getViewer", rejection(code))

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer.email == EMAIL
    first_token, rejected, second_token, retried = server.sent
    assert first_token.is_token_request
    assert second_token.is_token_request
    assert "authorization" not in second_token.headers
    assert rejected.authorization == server.issued_tokens[0]
    assert retried.authorization == server.issued_tokens[1]


@pytest.mark.parametrize("code", TOKEN_REJECTIONS)
async def test_a_second_rejection_raises_authentication_error_without_looping(
    kraken: Driver, server: FakeKraken, code: str
) -> None:
    server.queue("getViewer", rejection(code), rejection(code))

    with pytest.raises(AuthenticationError) as raised:
        await kraken.call("get_viewer")

    assert len(server.sent) == 4  # token, call, token, retry: nothing more
    assert len(server.token_requests) == 2
    if code == "HTTP 401":
        assert raised.value.status_code == 401
    else:
        assert raised.value.error_code == code
        assert code in str(raised.value)


@pytest.mark.parametrize("code", TOKEN_REJECTIONS)
async def test_a_token_rejected_on_the_retry_is_not_sent_again(
    kraken: Driver, server: FakeKraken, clock: FakeClock, code: str
) -> None:
    server.queue("getViewer", rejection(code), rejection(code))
    with pytest.raises(AuthenticationError):
        await kraken.call("get_viewer")

    clock.advance(2)  # past the pause after two fresh tokens were rejected in a row
    await kraken.call("get_viewer")

    assert len(server.token_requests) == 3
    assert server.sent[-2].is_token_request
    assert server.sent[-1].authorization == server.issued_tokens[2]


async def test_a_rejection_invalidates_only_the_token_that_call_used(
    kraken: Driver, server: FakeKraken, kind: str
) -> None:
    # Two calls both send token 1 and both are told it was rejected; the second answer comes back
    # after the first call has already obtained token 2. That must not throw token 2 away.
    server.set_default(OBTAIN, slow_token(server))
    server.set_default(REFRESH, slow_token(server))
    first_token_uses = 0

    def reject_first_token(sent: Sent) -> httpx.Response | Delayed:
        nonlocal first_token_uses
        if sent.authorization != server.issued_tokens[0]:
            return data_response(VIEWER_DATA)
        first_token_uses += 1
        delay = 0.02 if first_token_uses == 1 else 0.2
        return Delayed(delay, error_response("KT-CT-1124"))

    server.set_default("getViewer", reject_first_token)

    await kraken.concurrently(2)

    assert first_token_uses == 2
    assert len(server.token_requests) == 2  # token 1, then token 2 once
    assert [s.authorization for s in server.data_requests].count(server.issued_tokens[1]) == 2


# Rule 6: rejected credentials raise at once and are never sent again (each code of the table, on
# both clients: test_kt_codes.py); concurrent calls share the one token request.


async def test_concurrent_calls_with_rejected_credentials_make_one_token_request(
    kraken: Driver, server: FakeKraken, kind: str
) -> None:
    server.set_default(OBTAIN, lambda _sent: Delayed(0.05, error_response("KT-CT-1139")))

    outcomes = await kraken.concurrently(concurrency(kind), return_exceptions=True)

    assert all(isinstance(outcome, AuthenticationError) for outcome in outcomes)
    assert len(server.sent) == 1


# Rule 7: rate limits raise RateLimitError (never AuthenticationError), with Retry-After

RATE_LIMITS: dict[str, tuple[Callable[[Sent], httpx.Response], float | None]] = {
    # how the API says it: (the answer, the retry_after the error must carry)
    "KT-CT-1199": (error_reply("KT-CT-1199", message="Too many requests."), None),
    "KT-CT-1199 with Retry-After": (
        error_reply("KT-CT-1199", message="Too many requests.", headers={"Retry-After": "30"}),
        30.0,
    ),
    "HTTP 429": (lambda _sent: httpx.Response(429, text="Too Many Requests"), None),
    "HTTP 429 with Retry-After": (
        lambda _sent: httpx.Response(429, text="Slow down", headers={"Retry-After": "17"}),
        17.0,
    ),
}


@pytest.mark.parametrize("limit", list(RATE_LIMITS))
async def test_a_rate_limited_data_call_raises_rate_limit_error_not_authentication_error(
    kraken: Driver, server: FakeKraken, limit: str
) -> None:
    answer, retry_after = RATE_LIMITS[limit]
    server.queue("getViewer", answer)

    with pytest.raises(RateLimitError) as raised:
        await kraken.call("get_viewer")

    assert not isinstance(raised.value, AuthenticationError)
    assert raised.value.retry_after == retry_after
    # Not a token problem either: the token is kept.
    await kraken.call("get_viewer")
    assert operations(server.sent) == [OBTAIN, "getViewer", "getViewer"]


@pytest.mark.parametrize("limit", list(RATE_LIMITS))
async def test_a_rate_limited_token_request_raises_rate_limit_error_not_authentication_error(
    kraken: Driver, server: FakeKraken, limit: str
) -> None:
    answer, retry_after = RATE_LIMITS[limit]
    server.queue(OBTAIN, answer)

    with pytest.raises(RateLimitError) as raised:
        await kraken.call("get_viewer")

    assert not isinstance(raised.value, AuthenticationError)
    assert raised.value.retry_after == retry_after
    assert operations(server.sent) == [OBTAIN]


async def test_a_rate_limited_token_request_is_not_repeated_before_retry_after(
    kraken: Driver, server: FakeKraken, clock: FakeClock
) -> None:
    server.queue(OBTAIN, RATE_LIMITS["KT-CT-1199 with Retry-After"][0])
    with pytest.raises(RateLimitError):
        await kraken.call("get_viewer")

    clock.advance(29)
    with pytest.raises(RateLimitError) as raised:
        await kraken.call("get_viewer")
    assert not isinstance(raised.value, AuthenticationError)
    assert len(server.sent) == 1

    clock.advance(2)
    await kraken.call("get_viewer")
    assert operations(server.sent) == [OBTAIN, OBTAIN, "getViewer"]


# Rule 8: without credentials, public operations work and protected ones fail before sending

PUBLIC_OPERATIONS = {
    "get_products": ((), "products"),
    "get_products_with_rates": ((), "products_with_concise_applicable_rates"),
    "get_tdsp_by_postal_code": (("75001",), "tdsp_by_postalcode"),
}


@pytest.mark.parametrize("method", list(PUBLIC_OPERATIONS))
async def test_public_operations_work_without_credentials_and_send_no_authorization(
    connect: Callable[..., Driver], server: FakeKraken, method: str
) -> None:
    kraken = connect(credentials=None)
    args, field = PUBLIC_OPERATIONS[method]

    result = await kraken.call(method, *args)

    assert getattr(result, field)
    (request,) = server.sent
    assert "authorization" not in request.headers


async def test_a_protected_operation_without_credentials_raises_before_sending_anything(
    connect: Callable[..., Driver], server: FakeKraken
) -> None:
    kraken = connect(credentials=None)

    with pytest.raises(AuthenticationError, match="credentials"):
        await kraken.call("get_viewer")

    assert server.sent == []


# Rule 9: secrets never appear in a repr, an error or a log record


@pytest.mark.parametrize("credential", list(CREDENTIALS))
async def test_no_secret_appears_in_logs_reprs_or_errors_over_a_full_lifecycle(
    connect: Callable[..., Driver],
    server: FakeKraken,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    credential: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # root logger: httpx and httpcore records too
    kraken = connect(CREDENTIALS[credential])
    errors: list[KrakenError] = []

    async def failing_call() -> None:
        with pytest.raises(KrakenError) as raised:
            await kraken.call("get_viewer")
        errors.append(raised.value)

    await kraken.call("get_viewer")  # obtain
    into_refresh_window(clock)
    await kraken.call("get_viewer")  # refresh
    server.queue("getViewer", rejection("KT-CT-1124"))
    await kraken.call("get_viewer")  # rejected token: renewed, call retried
    server.queue("getViewer", rejection("KT-CT-1143"))
    await kraken.call("get_viewer")  # rejected token: obtained anew, call retried
    server.queue("getViewer", RATE_LIMITS["HTTP 429 with Retry-After"][0])
    await failing_call()  # rate-limited data call
    clock.advance(TOKEN_LIFETIME)
    server.queue(REFRESH, RATE_LIMITS["KT-CT-1199"][0])
    await failing_call()  # rate-limited token request
    clock.advance(120)
    server.queue(REFRESH, error_reply("KT-CT-1135"))
    server.queue(OBTAIN, error_reply("KT-CT-1138"))
    await failing_call()  # refresh token and then credentials rejected
    await failing_call()  # ... and remembered

    assert [type(e) for e in errors[:2]] == [RateLimitError, RateLimitError]
    assert [type(e) for e in errors[2:]] == [AuthenticationError, AuthenticationError]
    assert len(server.issued_tokens) >= 4
    secrets = [
        *(value for value in TOKEN_INPUTS[credential].values() if value != EMAIL),
        *server.issued_tokens,
        *(token.rsplit(".", 1)[-1] for token in server.issued_tokens),  # JWT signatures
        *server.issued_refresh_tokens,
    ]
    assert {"oeus_kraken", "httpx"} <= {record.name for record in caplog.records}
    texts = {
        "caplog.text": caplog.text,
        "repr(client)": repr(kraken.client),
        "repr(credentials)": repr(kraken.client.credentials),
        "str(credentials)": str(kraken.client.credentials),
    }
    for i, record in enumerate(caplog.records):
        texts[f"log record {i} ({record.name})"] = record.getMessage()
    for i, error in enumerate(errors):
        texts[f"str(error {i})"] = str(error)
        texts[f"repr(error {i})"] = repr(error)
        texts[f"args(error {i})"] = repr(error.args)
    for secret in secrets:
        for where, text in texts.items():
            assert secret not in text, f"a secret leaked into {where}"


def quoting_the_input(how: str) -> Reply:
    """An answer to the token request that quotes the `input` it could not read, as GraphQL
    servers do: graphql-core's coercion error (Kraken's stack, and the sandbox's) repeats the
    value whole, e.g. after the API drops or renames a field of ObtainJSONWebTokenInput."""

    def reply(sent: Sent) -> httpx.Response:
        given = (sent.variables or {}).get("input")
        if how == "a GraphQL validation error":
            message = (
                f"Variable '$input' got invalid value {given!r}; Field 'password' is not "
                "defined by type 'ObtainJSONWebTokenInput'."
            )
            return error_response("KT-CT-1137", message=message, error_type="VALIDATION")
        return httpx.Response(400, text=f"Bad request: input {json.dumps(given)} is invalid")

    return reply


# A password as people choose them: beyond ASCII, with a quote and a backslash.
AWKWARD_PASSWORD = 'Pässwörd"PWSECRET\\1'


async def test_a_password_beyond_ascii_is_masked_in_an_answer_quoting_the_body_as_it_was_sent(
    connect: Callable[..., Driver], server: FakeKraken
) -> None:
    """A server or proxy that quotes the request body back ("Bad request: <body>") quotes the
    password as our JSON spelt it: letters beyond ASCII as they are, the quote and backslash
    escaped. That spelling was not among those masked (the password itself, its repr, its JSON
    with every letter beyond ASCII as \\u00xx, its HTML), and the error showed it."""
    kraken = connect(EmailPassword(EMAIL, AWKWARD_PASSWORD))

    def quoting_the_body(sent: Sent) -> httpx.Response:
        variables = sent.content.decode().partition('"variables":')[2]
        return httpx.Response(400, text=f"Bad request: variables {variables}")

    server.queue(OBTAIN, quoting_the_body)
    with pytest.raises(KrakenError) as raised:
        await kraken.call("get_viewer")
    error = raised.value
    said = repr((str(error), repr(error), error.args, vars(error)))
    shows_the_password = "PWSECRET" in said  # (asserted apart: a failure prints no password)
    assert not shows_the_password
    assert "***" in str(error)


@pytest.mark.parametrize("how", ["a GraphQL validation error", "an HTTP 400 in plain text"])
@pytest.mark.parametrize("credential", list(CREDENTIALS))
async def test_no_secret_appears_in_an_error_that_quotes_the_token_requests_input(
    connect: Callable[..., Driver], server: FakeKraken, credential: str, how: str
) -> None:
    """The API's words reach the error (the user needs them), with the credential masked."""
    kraken = connect(CREDENTIALS[credential])
    server.queue(OBTAIN if credential != "refresh_token" else REFRESH, quoting_the_input(how))

    with pytest.raises(KrakenError) as raised:
        await kraken.call("get_viewer")

    error = raised.value
    texts = {"the error's errors": repr(error.errors), "its data": repr(error.data)}
    cause: BaseException | None = error
    while cause is not None:  # the error, then its chain
        texts[f"{type(cause).__name__}: str, repr, args, attributes"] = repr(
            (str(cause), repr(cause), cause.args, vars(cause))
        )
        cause = cause.__cause__ or cause.__context__
    for secret in TOKEN_INPUTS[credential].values():
        if secret != EMAIL:
            assert [where for where, text in texts.items() if secret in text] == []
    assert "***" in str(error)


# Contract: credentials

CREDENTIAL_FIELDS = [
    (OrganizationSecretKey, {"key": ORG_KEY}),
    (APIKey, {"key": API_KEY_VALUE}),
    (EmailPassword, {"email": EMAIL, "password": PASSWORD}),
    (RefreshToken, {"token": REFRESH_TOKEN_VALUE}),
]
CREDENTIAL_IDS = [cls.__name__ for cls, _ in CREDENTIAL_FIELDS]


@pytest.mark.parametrize(("cls", "fields"), CREDENTIAL_FIELDS, ids=CREDENTIAL_IDS)
def test_credentials_are_built_positionally_or_by_field_name(
    cls: type[Any], fields: dict[str, str]
) -> None:
    by_name = cls(**fields)
    positional = cls(*fields.values())

    assert by_name == positional
    for name, value in fields.items():
        assert getattr(by_name, name) == value


@pytest.mark.parametrize(("cls", "fields"), CREDENTIAL_FIELDS, ids=CREDENTIAL_IDS)
def test_credentials_are_frozen(cls: type[Any], fields: dict[str, str]) -> None:
    credential = cls(**fields)
    for name in fields:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(credential, name, "changed")
    assert dataclasses.asdict(credential) == fields


@pytest.mark.parametrize(("cls", "fields"), CREDENTIAL_FIELDS, ids=CREDENTIAL_IDS)
def test_credential_repr_hides_the_secret(cls: type[Any], fields: dict[str, str]) -> None:
    credential = cls(**fields)

    assert repr(credential).startswith(cls.__name__)
    for name, value in fields.items():
        if name != "email":
            assert value not in repr(credential)
            assert value not in str(credential)


# Contract: URLs and the client lifecycle


def test_production_and_test_urls() -> None:
    assert PRODUCTION_URL == "https://api.oeus-kraken.energy/v1/graphql/"
    assert TEST_URL == "https://api.oeus-kraken.systems/v1/graphql/"


async def test_context_manager_yields_the_client_and_closes_the_http_client_it_created(
    kind: str,
) -> None:
    client = CLIENT_CLASSES[kind](URL, credentials=CREDENTIALS["api_key"])
    if isinstance(client, KrakenClient):
        async with client as entered:
            assert entered is client
    else:
        with client as entered:
            assert entered is client

    assert client.http_client.is_closed


async def test_a_callers_http_client_is_used_as_given_and_not_closed(
    kind: str, server: FakeKraken
) -> None:
    if kind == "async":
        async with httpx.AsyncClient(headers={"X-Caller": "mine"}) as own:
            async with KrakenClient(URL, http_client=own) as client:
                assert client.http_client is own
                await client.get_products()
            assert not own.is_closed
    else:
        with httpx.Client(headers={"X-Caller": "mine"}) as own_sync:
            with SyncKrakenClient(URL, http_client=own_sync) as sync_client:
                assert sync_client.http_client is own_sync
                sync_client.get_products()
            assert not own_sync.is_closed

    (request,) = server.sent
    assert request.headers["x-caller"] == "mine"


# Contract: from_env()

KRAKEN_VARIABLES = [
    "KRAKEN_URL",
    "KRAKEN_ORGANIZATION_SECRET_KEY",
    "KRAKEN_API_KEY",
    "KRAKEN_EMAIL",
    "KRAKEN_PASSWORD",
    "KRAKEN_REFRESH_TOKEN",
]
ALL_CREDENTIAL_VARIABLES = {
    "KRAKEN_ORGANIZATION_SECRET_KEY": ORG_KEY,
    "KRAKEN_API_KEY": API_KEY_VALUE,
    "KRAKEN_EMAIL": EMAIL,
    "KRAKEN_PASSWORD": PASSWORD,
    "KRAKEN_REFRESH_TOKEN": REFRESH_TOKEN_VALUE,
}
FROM_ENV_PRECEDENCE = {
    # which variables are set -> the one credential the client takes
    "organization key beats everything": (
        list(ALL_CREDENTIAL_VARIABLES),
        OrganizationSecretKey(ORG_KEY),
    ),
    "API key beats email, password and refresh token": (
        ["KRAKEN_API_KEY", "KRAKEN_EMAIL", "KRAKEN_PASSWORD", "KRAKEN_REFRESH_TOKEN"],
        APIKey(API_KEY_VALUE),
    ),
    "email and password beat refresh token": (
        ["KRAKEN_EMAIL", "KRAKEN_PASSWORD", "KRAKEN_REFRESH_TOKEN"],
        EmailPassword(EMAIL, PASSWORD),
    ),
    "refresh token alone": (["KRAKEN_REFRESH_TOKEN"], RefreshToken(REFRESH_TOKEN_VALUE)),
    "nothing set": ([], None),
}


@pytest.fixture
def kraken_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean slate: no KRAKEN_* variable set."""
    for name in KRAKEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


async def close(client: KrakenClient | SyncKrakenClient) -> None:
    if isinstance(client, KrakenClient):
        await client.aclose()
    else:
        client.close()


@pytest.mark.parametrize("case", list(FROM_ENV_PRECEDENCE))
async def test_from_env_reads_kraken_url_and_exactly_one_credential_by_precedence(
    kind: str, kraken_env: pytest.MonkeyPatch, case: str
) -> None:
    names, expected = FROM_ENV_PRECEDENCE[case]
    kraken_env.setenv("KRAKEN_URL", TEST_URL)
    for name in names:
        kraken_env.setenv(name, ALL_CREDENTIAL_VARIABLES[name])

    client = CLIENT_CLASSES[kind].from_env()

    assert client.url == TEST_URL
    assert client.credentials == expected
    assert type(client.credentials) is type(expected)
    await close(client)


async def test_from_env_takes_a_url_or_credentials_given_to_it_over_the_environments(
    kind: str, kraken_env: pytest.MonkeyPatch
) -> None:
    kraken_env.setenv("KRAKEN_URL", PRODUCTION_URL)
    kraken_env.setenv("KRAKEN_API_KEY", ALL_CREDENTIAL_VARIABLES["KRAKEN_API_KEY"])
    kraken_env.setenv("KRAKEN_EMAIL", ALL_CREDENTIAL_VARIABLES["KRAKEN_EMAIL"])  # half a pair
    given = APIKey("sk_given_key")

    client = CLIENT_CLASSES[kind].from_env(url=TEST_URL, credentials=given)

    assert (client.url, client.credentials) == (TEST_URL, given)
    await close(client)


@pytest.mark.parametrize(("present", "missing"), [("EMAIL", "PASSWORD"), ("PASSWORD", "EMAIL")])
def test_from_env_with_only_one_of_email_and_password_raises_configuration_error(
    kind: str, kraken_env: pytest.MonkeyPatch, present: str, missing: str
) -> None:
    kraken_env.setenv(f"KRAKEN_{present}", ALL_CREDENTIAL_VARIABLES[f"KRAKEN_{present}"])

    with pytest.raises(ConfigurationError, match=f"KRAKEN_{missing}") as raised:
        CLIENT_CLASSES[kind].from_env()

    assert isinstance(raised.value, KrakenError)
    assert PASSWORD not in str(raised.value)


# Contract: errors


def test_kraken_error_is_the_base_of_every_error_the_package_exports() -> None:
    exported = [
        getattr(oeus_kraken, name) for name in oeus_kraken.__all__ if name.endswith("Error")
    ]

    assert len(exported) >= 10
    for error_class in exported:
        assert issubclass(error_class, KrakenError), error_class


async def test_a_graphql_error_carries_its_code_errors_partial_data_and_operation_name(
    kraken: Driver, server: FakeKraken
) -> None:
    server.queue(
        "getAccount",
        error_reply(
            "KT-CT-4177",
            message="Unauthorized.",
            data={"account": None},
            error_type="AUTHORIZATION",
        ),
    )

    with pytest.raises(GraphQLError) as raised:
        await kraken.call("get_account", "A-1234ABCD")

    error = raised.value
    assert isinstance(error, PermissionDeniedError)
    assert not isinstance(error, AuthenticationError)
    assert error.error_code == "KT-CT-4177"
    assert error.operation_name == "getAccount"
    assert error.data == {"account": None}
    assert [e["extensions"]["errorCode"] for e in error.errors] == ["KT-CT-4177"]
    assert len(server.token_requests) == 1  # a permission error is not a token problem


async def test_an_http_5xx_html_page_gives_an_api_status_error(
    connect: Callable[..., Driver], server: FakeKraken
) -> None:
    kraken = connect(credentials=None)
    page = httpx.Response(502, html="<html><body><h1>502 Bad Gateway</h1></body></html>")
    server.queue("getProducts", response_reply(page))

    with pytest.raises(APIStatusError) as raised:
        await kraken.call("get_products")

    assert raised.value.status_code == 502
    assert raised.value.operation_name == "getProducts"
    assert "502" in str(raised.value)


async def test_a_200_answer_that_is_not_json_gives_invalid_response_error_from_the_decode_error(
    connect: Callable[..., Driver], server: FakeKraken
) -> None:
    kraken = connect(credentials=None)
    server.queue("getProducts", response_reply(httpx.Response(200, text="<html>hello</html>")))

    with pytest.raises(InvalidResponseError) as raised:
        await kraken.call("get_products")

    assert isinstance(raised.value.__cause__, ValueError)
    assert raised.value.status_code == 200


@pytest.mark.parametrize(
    ("transport_error", "expected"),
    [
        (httpx.ConnectError("connection refused"), APIConnectionError),
        (httpx.ReadTimeout("read timed out"), APITimeoutError),
    ],
    ids=["connect error", "timeout"],
)
@pytest.mark.parametrize("call", ["public call", "token request"])
async def test_a_transport_error_is_a_kraken_error_raised_from_the_httpx_exception(
    connect: Callable[..., Driver],
    server: FakeKraken,
    transport_error: httpx.TransportError,
    expected: type[KrakenError],
    call: str,
) -> None:
    def fail(_sent: Sent) -> httpx.Response:
        raise transport_error

    if call == "public call":
        kraken = connect(credentials=None)
        server.queue("getProducts", fail)
        method = "get_products"
    else:
        kraken = connect()
        server.queue(OBTAIN, fail)
        method = "get_viewer"

    with pytest.raises(expected) as raised:
        await kraken.call(method)

    # The cause keeps the httpx error's type and message, but not its request (whose body or
    # headers hold the credentials or the token).
    cause = raised.value.__cause__
    assert type(cause) is type(transport_error)
    assert str(cause) == str(transport_error)
    with pytest.raises(RuntimeError):
        cause.request  # noqa: B018 (the property raises when no request is attached)


def no_generated_error_in_chain(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if type(current).__module__.startswith("oeus_kraken_generated"):
            return False
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return True


BAD_ANSWERS: dict[str, Callable[[], httpx.Response]] = {
    "500 with GraphQL errors": lambda: json_response({"errors": [{"message": "boom"}]}, status=500),
    "500 JSON without data": lambda: json_response({"detail": "internal error"}, status=500),
    "400 validation error": lambda: error_response(
        "KT-CT-0001", error_type="VALIDATION", message="Cannot query field.", status=400
    ),
    "200 not JSON": lambda: httpx.Response(200, text="not json at all"),
    "200 JSON list": lambda: json_response([1, 2, 3]),
    "200 data null": lambda: json_response({"data": None}),
    "200 errors without code": lambda: json_response({"data": None, "errors": [{"message": "x"}]}),
    "200 malformed errors": lambda: json_response({"data": None, "errors": "nope"}),
    "503 empty body": lambda: httpx.Response(503),
}


@pytest.mark.parametrize("answer", list(BAD_ANSWERS))
async def test_the_generated_clients_own_exceptions_never_reach_the_user(
    connect: Callable[..., Driver], server: FakeKraken, answer: str
) -> None:
    kraken = connect(credentials=None)
    server.queue("getProducts", response_reply(BAD_ANSWERS[answer]()))

    with pytest.raises(KrakenError) as raised:
        await kraken.call("get_products")

    assert no_generated_error_in_chain(raised.value)


@pytest.mark.parametrize("operation", ["getViewer", OBTAIN])
async def test_an_answer_that_does_not_match_the_model_gives_invalid_response_error(
    kraken: Driver, server: FakeKraken, operation: str
) -> None:
    mismatched = {
        "getViewer": {"viewer": {"id": "1", "givenName": 7}},
        OBTAIN: {"obtainKrakenToken": {"token": None, "payload": {}}},
    }[operation]
    server.queue(operation, response_reply(data_response(mismatched)))

    with pytest.raises(InvalidResponseError) as raised:
        await kraken.call("get_viewer")

    assert not isinstance(raised.value, pydantic.ValidationError)
    # pydantic's error quotes the values it rejected, which could be secrets: not chained.
    assert raised.value.__cause__ is None
    # Named first, as every other error about a call is.
    assert str(raised.value).startswith(f"{operation}: ")
    assert raised.value.operation_name == operation


@pytest.mark.parametrize("empty", ["", "   "])
def test_from_env_refuses_a_kraken_url_that_is_set_but_empty(kind: str, empty: str) -> None:
    with pytest.raises(ConfigurationError, match="KRAKEN_URL is set but empty"):
        CLIENT_CLASSES[kind].from_env({"KRAKEN_URL": empty, "KRAKEN_API_KEY": "k"})


@pytest.mark.parametrize("value", ["ftp://kraken.example.test/", "sk_live_in_the_wrong_variable"])
def test_from_env_names_kraken_url_when_its_value_is_no_url(kind: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^KRAKEN_URL: ") as raised:
        CLIENT_CLASSES[kind].from_env({"KRAKEN_URL": value, "KRAKEN_API_KEY": "k"})
    assert "sk_live_in_the_wrong_variable" not in str(raised.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda: OrganizationSecretKey("sk_live_a\0b"),
        lambda: APIKey("a\0b"),
        lambda: EmailPassword("a@example.test", "hunter\0two"),
        lambda: EmailPassword("a\0@example.test", "password"),
        lambda: RefreshToken("a\0b"),
    ],
    ids=[
        "OrganizationSecretKey",
        "APIKey",
        "EmailPassword password",
        "EmailPassword email",
        "RefreshToken",
    ],
)
def test_a_credential_holding_a_nul_character_is_refused(make: Callable[[], object]) -> None:
    """No credential holds one; two that differ only in where a NUL falls would otherwise share
    a token store entry (its key joins their fields with NUL)."""
    with pytest.raises(ConfigurationError, match="NUL") as raised:
        make()
    assert "hunter" not in str(raised.value)


async def test_an_unreachable_endpoint_is_named_without_the_urls_fragment() -> None:
    client = SyncKrakenClient(
        "http://127.0.0.1:9/v1/graphql/#SECRET-IN-FRAGMENT", credentials=APIKey("k"), max_retries=0
    )
    with client, pytest.raises(APIConnectionError) as raised:
        client.get_viewer()
    assert "127.0.0.1:9" in str(raised.value)
    assert "SECRET-IN-FRAGMENT" not in str(raised.value)
