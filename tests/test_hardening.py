"""Hardening: what a hostile server, a bad clock and a careless caller do, and what the user sees.

One section per behaviour of the hardening issue, numbered as there; each test runs over both
clients unless its name says otherwise. The fake Kraken (`auth_helpers.FakeKraken`) scripts
answers by operation; `HostileServer` answers over real sockets, at any pace, for the deadline
and fork tests; the sandbox stands in for Kraken where a real server matters.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import struct
import threading
import time
import traceback
import tracemalloc
import warnings
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from auth_helpers import (
    API_KEY_VALUE,
    CREDENTIALS,
    DEFAULT_DATA,
    OBTAIN,
    REFRESH,
    START,
    TOKEN_LIFETIME,
    URL,
    VIEWER_DATA,
    Delayed,
    Driver,
    FakeClock,
    FakeKraken,
    Sent,
    Waits,
    data_response,
    error_response,
    json_response,
    leaked_secrets,
    record_waits,
    secrets_of,
)
from conftest import connector
from hostile_server import HostileServer, Request, at_once, trickle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopback_kraken import Caller, scripted

from oeus_kraken import (
    APIKey,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    GetViewer,
    InvalidResponseError,
    KrakenClient,
    KrakenError,
    ObtainJSONWebTokenInput,
    RateLimitError,
    SyncKrakenClient,
)
from oeus_kraken._responses import MAX_RETRY_AFTER
from oeus_kraken.sandbox import DEMO_API_KEY, SandboxServer

CLASSES = {"async": KrakenClient, "sync": SyncKrakenClient}


@pytest.fixture
async def connect(
    kind: str, clock: FakeClock, server: FakeKraken, waits: Waits
) -> AsyncIterator[Callable[..., Driver]]:
    connect, made = connector(kind, clock, server)
    yield connect
    for driver in made:
        await driver.close()


def operations(server: FakeKraken) -> list[str | None]:
    return [s.operation for s in server.sent]


def bad_gateway(_sent: Sent) -> httpx.Response:
    return httpx.Response(
        502,
        text="<html><title>502 Bad Gateway</title></html>",
        headers={"content-type": "text/html"},
    )


# -- 1. a transient token failure is not held against later calls --------------------------------


async def test_a_token_endpoint_that_fails_twice_then_recovers_fails_no_call_of_20(
    connect: Callable[..., Driver], server: FakeKraken
) -> None:
    """20 callers at once, max_retries=3: the first two token requests get HTTP 502 (slowly, so
    that callers pile up behind each), then the endpoint recovers."""
    server.queue(OBTAIN, *[lambda s: Delayed(0.05, bad_gateway(s))] * 2)
    kraken = connect(max_retries=3)

    results = await kraken.concurrently(20, "get_viewer", return_exceptions=True)

    assert [r for r in results if not isinstance(r, GetViewer)] == []
    assert len(server.token_requests) <= 3


async def test_right_after_a_failed_token_request_the_next_call_tries_again(
    connect: Callable[..., Driver], server: FakeKraken
) -> None:
    server.queue(OBTAIN, bad_gateway)
    kraken = connect(max_retries=0)

    with pytest.raises(APIStatusError) as failed:
        await kraken.call("get_viewer")
    await kraken.call("get_viewer")  # at once: no cooldown where retrying can help

    message = str(failed.value)
    assert failed.value.operation_name == OBTAIN
    assert "HTTP 502" in message
    assert "more seconds" not in message
    assert "earlier token request" not in message
    assert operations(server) == [OBTAIN, OBTAIN, "getViewer"]


async def test_callers_waiting_on_a_token_request_share_its_outcome(
    connect: Callable[..., Driver], server: FakeKraken
) -> None:
    server.queue(OBTAIN, lambda s: Delayed(0.1, bad_gateway(s)))
    kraken = connect(max_retries=0)

    results = await kraken.concurrently(10, "get_viewer", return_exceptions=True)

    assert all(isinstance(r, APIStatusError) for r in results), results
    assert len(server.token_requests) == 1  # one request, one outcome for all ten
    assert {str(r) for r in results} == {str(results[0])}


# -- 2. a huge or absurd Retry-After is capped ----------------------------------------------------


@pytest.mark.parametrize("retry_after", ["1e999", "99999999", "inf", "86400000"])
async def test_a_huge_or_absurd_retry_after_is_capped_and_never_a_credentials_lockout(
    connect: Callable[..., Driver], server: FakeKraken, clock: FakeClock, retry_after: str
) -> None:
    server.queue(
        OBTAIN, lambda _s: json_response({}, status=429, headers={"Retry-After": retry_after})
    )
    kraken = connect(max_retries=0)

    with pytest.raises(RateLimitError) as first:
        await kraken.call("get_viewer")
    assert first.value.retry_after == MAX_RETRY_AFTER
    with pytest.raises(RateLimitError) as blocked:
        await kraken.call("get_viewer")
    assert "new credentials" not in str(blocked.value)
    assert "credentials problem" in str(blocked.value)  # "... not a credentials problem"
    assert 0 < (blocked.value.retry_after or 0) <= MAX_RETRY_AFTER

    clock.advance(MAX_RETRY_AFTER)
    await kraken.call("get_viewer")  # an hour at most, then it tries again
    assert operations(server) == [OBTAIN, OBTAIN, "getViewer"]


# -- 3. no token storm when the API rejects every token -------------------------------------------


@pytest.mark.parametrize("rejection", ["HTTP 401", "KT-CT-1124"])
async def test_20_sequential_calls_rejected_every_time_make_at_most_3_token_requests(
    connect: Callable[..., Driver], server: FakeKraken, rejection: str
) -> None:
    def reject(_sent: Sent) -> httpx.Response:
        if rejection == "HTTP 401":
            return httpx.Response(401, text="Unauthorized")
        return error_response("KT-CT-1124")

    server.set_default("getViewer", reject)
    kraken = connect()

    for _ in range(20):
        with pytest.raises(AuthenticationError):
            await kraken.call("get_viewer")

    assert len(server.token_requests) <= 3


# -- 4. clock skew --------------------------------------------------------------------------------


@pytest.mark.parametrize("skew", [TOKEN_LIFETIME, 3 * TOKEN_LIFETIME, -3 * TOKEN_LIFETIME])
async def test_a_skewed_client_clock_costs_one_token_request_for_20_concurrent_calls(
    connect: Callable[..., Driver],
    server: FakeKraken,
    logs: pytest.LogCaptureFixture,
    skew: float,
) -> None:
    """The client's clock reads `skew` seconds more than the API's: by the client's clock each
    token has expired (or lasts hours) on arrival. Its life is measured from its arrival."""
    server.clock = FakeClock(START - skew)  # the API's clock
    server.queue(OBTAIN, lambda _s: Delayed(0.05, server.issue_token()))
    kraken = connect()

    await kraken.concurrently(20, "get_viewer")
    await kraken.concurrently(20, "get_viewer")

    assert len(server.token_requests) == 1
    skew_warnings = [r for r in logs.records if "clock is" in r.getMessage()]
    assert len(skew_warnings) == 1


# -- 5. a deadline per call -----------------------------------------------------------------------

PRODUCTS_BODY = json.dumps({"data": DEFAULT_DATA["getProducts"]}).encode()


async def call_once(kind: str, url: str, method: str = "get_products", **options: Any) -> Any:
    if kind == "async":
        async with KrakenClient(url, **options) as kraken:
            return await getattr(kraken, method)()
    with SyncKrakenClient(url, **options) as sync_kraken:
        return await asyncio.to_thread(getattr(sync_kraken, method))


# Each attempt's time limit against a trickling server: short, so the tests wait little, and
# twice the trickle's pace, so every piece arrives within it.
TRICKLE_LIMIT = 0.4


@pytest.mark.slow
@pytest.mark.parametrize("headers_too", [False, True], ids=["trickled body", "trickled headers"])
async def test_a_server_trickling_its_answer_cannot_hold_a_call_past_its_deadline(
    kind: str, headers_too: bool
) -> None:
    """5 bytes a second, each within the read timeout: the call ends at its time limit (the read
    timeout, 0.4 s here, per attempt), not when the server is done (minutes later)."""
    answer = lambda _r: trickle(PRODUCTS_BODY, every=0.2, headers_too=headers_too)  # noqa: E731
    with HostileServer(answer) as hostile:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await call_once(kind, hostile.url, timeout=TRICKLE_LIMIT, max_retries=1)
        elapsed = time.monotonic() - started
    # Documented bound: (max_retries + 1) x the time limit, plus the backoff between (<= 0.5 s).
    assert elapsed < 2 * TRICKLE_LIMIT + 0.5 + 1.0, elapsed


async def test_a_trickled_token_request_holds_the_other_callers_only_until_their_deadline(
    kind: str,
) -> None:
    def answer(request: Request) -> Any:
        if request.operation == OBTAIN:
            return trickle(b"{}", every=0.2, headers_too=True)
        return at_once(json.dumps({"data": VIEWER_DATA}).encode())

    with HostileServer(answer) as hostile:
        client = CLASSES[kind](
            hostile.url, credentials=APIKey("k"), timeout=TRICKLE_LIMIT, max_retries=0
        )
        started = time.monotonic()
        driver = Driver(kind, client, None)  # type: ignore[arg-type]
        results = await driver.concurrently(5, "get_viewer", return_exceptions=True)
        elapsed = time.monotonic() - started
        await driver.close()
    assert all(isinstance(r, APITimeoutError) for r in results), results
    assert elapsed < TRICKLE_LIMIT + 1.0, elapsed
    assert hostile.operations().count(OBTAIN) == 1


# -- 6. nothing escapes the error tree ------------------------------------------------------------


@pytest.mark.parametrize("where", ["the call", "the token request"])
async def test_deeply_nested_json_is_an_invalid_response_error(
    connect: Callable[..., Driver], server: FakeKraken, where: str
) -> None:
    nested = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    operation = "getViewer" if where == "the call" else OBTAIN
    server.queue(operation, lambda _s: httpx.Response(200, content=nested))
    kraken = connect(max_retries=0)

    with pytest.raises(InvalidResponseError):
        await kraken.call("get_viewer")


async def test_a_call_on_a_closed_client_is_a_kraken_error(kind: str) -> None:
    client = CLASSES[kind](URL, credentials=CREDENTIALS["api_key"])
    driver = Driver(kind, client, None)  # type: ignore[arg-type]
    await driver.close()

    with pytest.raises(ConfigurationError, match="is closed"):
        await driver.call("get_viewer")


def test_the_async_client_simply_works_from_a_second_event_loop(sandbox: SandboxServer) -> None:
    kraken = KrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY))

    async def email() -> str | None:
        viewer = (await kraken.get_viewer()).viewer
        return viewer.email if viewer else None

    async def email_then_close() -> str | None:
        try:
            return await email()
        finally:
            await kraken.aclose()

    with warnings.catch_warnings():
        # The connection opened on the first loop cannot be closed once that loop is: the
        # client drops it (and Python warns about it when it is collected, below).
        warnings.simplefilter("ignore", ResourceWarning)
        assert asyncio.run(email()) == "demo@example.com"  # the first loop, now closed
        assert asyncio.run(email_then_close()) == "demo@example.com"  # a second: simply works
        gc.collect()
    assert sandbox.stats.token_requests == 1  # the token outlived the loop


@pytest.mark.parametrize(
    "token", ["abc\r\nX-Injected: 1", "caf\u00e9.token.sig", "with space", "", "tab\there"]
)
async def test_a_token_that_cannot_go_in_a_header_is_invalid_and_dropped(
    connect: Callable[..., Driver], server: FakeKraken, token: str
) -> None:
    payload = {"iat": int(START), "exp": int(START + TOKEN_LIFETIME)}
    answer = {"obtainKrakenToken": server.new_token(token=token or "-", payload=payload)}
    answer["obtainKrakenToken"]["token"] = token
    server.queue(OBTAIN, lambda _s: data_response(answer))
    kraken = connect(max_retries=0)

    with pytest.raises(InvalidResponseError, match="cannot be sent in an HTTP header"):
        await kraken.call("get_viewer")
    await kraken.call("get_viewer")  # the bad token was dropped: a new one is obtained

    assert operations(server) == [OBTAIN, OBTAIN, "getViewer"]
    assert all(token not in (s.authorization or "") for s in server.data_requests if token)


async def test_an_answer_bigger_than_max_response_bytes_is_refused(
    connect: Callable[..., Driver], server: FakeKraken
) -> None:
    big = json.dumps({"data": {"products": [{"id": "x" * 1000}] * 2000}}).encode()
    server.set_default("getProducts", lambda _s: httpx.Response(200, content=big))
    kraken = connect(credentials=None, max_response_bytes=1_000_000, max_retries=0)

    with pytest.raises(InvalidResponseError, match="larger than max_response_bytes"):
        await kraken.call("get_products")


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that expands to 1 GB of spaces, `{"data": "   ...   "}`.

    Compressing the gigabyte takes seconds, so one megabyte of spaces is compressed once and its
    bytes repeated 1,024 times: a full flush after each piece empties the compressor's window, so
    every megabyte after it compresses to the same bytes. The gzip trailer holds the CRC-32 and
    length of the whole (a decompressor checks them at the end)."""
    megabyte, prefix, suffix = b" " * (1 << 20), b'{"data": "', b'"}'
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: the gzip framing is ours
    start = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    piece = deflate.compress(megabyte) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.compress(suffix) + deflate.flush()
    crc = zlib.crc32(prefix)
    for _ in range(1024):
        crc = zlib.crc32(megabyte, crc)
    size = len(prefix) + 1024 * len(megabyte) + len(suffix)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name, no time
    trailer = struct.pack("<II", zlib.crc32(suffix, crc), size & 0xFFFFFFFF)
    return header + start + piece * 1024 + end + trailer


@pytest.mark.slow
def test_a_gzip_bomb_is_refused_without_holding_the_gigabyte(gzip_bomb: bytes) -> None:
    """The sync client, over real sockets: the answer's 1 MB of gzip is counted as what it
    expands to, and refused at the 50 MB cap, holding a small multiple of one read at most."""
    assert len(gzip_bomb) < 2_000_000
    assert zlib.decompressobj(31).decompress(gzip_bomb[:64]).startswith(b'{"data": "')  # gzip
    answer = lambda _r: at_once(gzip_bomb, headers="Content-Encoding: gzip\r\n")  # noqa: E731
    with HostileServer(answer) as hostile, SyncKrakenClient(hostile.url, max_retries=0) as kraken:
        tracemalloc.start()
        try:
            with pytest.raises(InvalidResponseError, match="larger than max_response_bytes"):
                kraken.get_products()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 200_000_000, peak


# -- 7. the no-errors fast path cannot be fooled --------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["\\u0065rrors", "e\\u0072rors", "erro\\u0072s", "error\\u0073"]
)
async def test_an_escaped_errors_key_is_still_read_as_errors_and_the_token_renewed(
    connect: Callable[..., Driver], server: FakeKraken, spelling: str
) -> None:
    rejection = error_response("KT-CT-1124").content.replace(b'"errors"', f'"{spelling}"'.encode())
    assert b'"errors"' not in rejection
    server.queue("getViewer", lambda _s: httpx.Response(200, content=rejection))
    kraken = connect()

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer is not None
    assert operations(server) == [OBTAIN, "getViewer", REFRESH, "getViewer"]


# -- 8. fork safety (POSIX) -----------------------------------------------------------------------


def fork_and_call(call: Callable[[], Any], *, timeout: float = 20.0) -> int:
    """Fork; the child runs `call` and exits 0 if it returned, 1 if it raised. Returns the
    child's exit status (-1 if it hung and was killed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            call()
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return -1


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_gets_a_working_sync_client_even_with_a_token_request_under_way() -> None:
    token_started = threading.Event()

    def answer(request: Request) -> Any:
        if request.operation == OBTAIN:
            body = json.dumps(
                {"data": {"obtainKrakenToken": FakeKraken(FakeClock(time.time())).new_token()}}
            ).encode()
            if not token_started.is_set():  # the parent's token request: slow
                token_started.set()
                return trickle(body, every=0.2, size=64)
            return at_once(body)
        return at_once(json.dumps({"data": VIEWER_DATA}).encode())

    with HostileServer(answer) as hostile:
        kraken = SyncKrakenClient(hostile.url, credentials=APIKey("k"))
        parent_call = threading.Thread(target=kraken.get_viewer, daemon=True)
        parent_call.start()  # holds the token request (and a pooled connection) at the fork
        assert token_started.wait(5)
        status = fork_and_call(kraken.get_viewer)
        parent_call.join(30)
        kraken.close()
    assert status == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_can_use_the_async_client_in_its_own_event_loop(
    sandbox: SandboxServer,
) -> None:
    clients = [KrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY))]

    async def use_then_close() -> None:
        await clients[0].get_viewer()
        await clients[0].aclose()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # as in the second-event-loop test
        asyncio.run(clients[0].get_viewer())  # used in the parent: a pooled connection, a token
        status = fork_and_call(lambda: asyncio.run(clients[0].get_viewer()))
        asyncio.run(use_then_close())
        clients.clear()  # the parent's client, with its first loop's connection, collected here
        gc.collect()
    assert status == 0


# -- 9. no secret in exception chains or reprs ----------------------------------------------------


def chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__]


def everything_a_reporter_sees(error: BaseException) -> str:
    """What an error reporter (Sentry and the like) collects: every exception in the chain,
    its message and repr, its arguments, and any request it carries (URL, headers, body)."""
    parts = []
    for exc in chain(error):
        parts += [str(exc), repr(exc), repr(exc.args), repr(vars(exc))]
        request = getattr(exc, "_request", None)
        if isinstance(request, httpx.Request):
            parts += [str(request.url), repr(request.headers.raw), request.content.decode()]
    return "\n".join(parts)


@pytest.mark.parametrize("where", [OBTAIN, "getViewer"])
@pytest.mark.parametrize("credential", ["organization_secret_key", "api_key", "email_password"])
async def test_no_secret_is_in_the_exception_chain_a_reporter_walks(
    connect: Callable[..., Driver], server: FakeKraken, where: str, credential: str
) -> None:
    def refuse(sent: Sent) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    if where == OBTAIN:
        server.queue(OBTAIN, refuse)
    else:
        server.set_default("getViewer", refuse)
    kraken = connect(credentials=CREDENTIALS[credential], max_retries=0)

    with pytest.raises(KrakenError) as raised:
        await kraken.call("get_viewer")

    seen = everything_a_reporter_sees(raised.value)
    assert "connection refused" in seen  # the cause's type and message are kept
    assert not [s for s in secrets_of(server) if s in seen]


def frame_locals_a_traceback_printer_shows(error: BaseException) -> Iterator[tuple[str, str]]:
    """(where, repr) of every local of the library's frames in the tracebacks `pytest
    --showlocals` prints for `error` (its own, and each cause or unsuppressed context), as
    Sentry's include_local_variables (on by default) and rich's show_locals collect them too."""
    shown: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in shown:
        shown.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    for exc in shown:
        for frame, _line in traceback.walk_tb(exc.__traceback__):
            if "oeus_kraken" not in frame.f_code.co_filename:  # the test's, the caller's
                continue
            for name, value in frame.f_locals.items():
                yield f"{frame.f_code.co_name}: {name}", repr(value)


DATA_FAILURES: dict[str, Callable[[Sent], httpx.Response]] = {
    "HTTP 500": lambda _sent: httpx.Response(500, text="oops"),
    "its token rejected twice": lambda _sent: error_response("KT-CT-1124"),
}


@pytest.mark.parametrize("failure", list(DATA_FAILURES))
@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_no_secret_is_in_the_locals_of_the_frames_a_failed_calls_traceback_shows(
    kind: str, failure: str
) -> None:
    """`pytest -l`, Sentry (locals on by default) and rich print each frame's locals: a data
    call's error passed through read_response with `secrets = ['<the token>', '<the refresh
    token>', '<the API key>']`, printed whole in CI logs and error reports."""
    kraken = scripted()
    kraken.set_default("getViewer", DATA_FAILURES[failure])
    with HostileServer(kraken.over_socket) as server:
        caller = Caller.make(kind, server.url, APIKey(API_KEY_VALUE), max_retries=0)
        try:
            with pytest.raises(KrakenError) as raised:
                await caller.call()
        finally:
            await caller.close()
    secrets = secrets_of(kraken)
    shown = list(frame_locals_a_traceback_printer_shows(raised.value))
    assert any(where.startswith("read_response") for where, _ in shown)  # the frames are there
    assert [where for where, text in shown if any(s in text for s in secrets)] == []


def test_generated_models_holding_secrets_show_them_redacted_in_repr_and_str() -> None:
    from oeus_kraken import GetKrakenTokenObtainKrakenToken

    given = ObtainJSONWebTokenInput(email="a@example.com", password="PW-SECRET", APIKey="KEY-1")
    token = GetKrakenTokenObtainKrakenToken(
        token="TOKEN-SECRET", payload={}, refreshToken="REFRESH-SECRET", refreshExpiresIn=1
    )
    for text in (repr(given), str(given), repr(token), str(token)):
        for secret in ("PW-SECRET", "KEY-1", "TOKEN-SECRET", "REFRESH-SECRET"):
            assert secret not in text
        assert "'***'" in text
    assert "a@example.com" in repr(given)  # not a secret
    # The documented way to read a value: the attribute, or model_dump().
    assert given.password == "PW-SECRET"
    assert token.model_dump()["refresh_token"] == "REFRESH-SECRET"


# -- any answer at all: a model or a KrakenError, and at most 2 token requests a call -------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
timestamps = st.integers(-(10**12), 10**12) | st.floats(allow_nan=True) | json_values
token_payloads = st.fixed_dictionaries(
    {},
    optional={"exp": timestamps, "iat": timestamps, "sub": st.text(max_size=8) | json_values},
)
tokens = st.text(max_size=20) | st.just("ok.jwt.sig") | json_values
token_objects = st.fixed_dictionaries(
    {
        "token": tokens,
        "payload": token_payloads | json_values,
        "refreshToken": st.text(max_size=8) | st.none() | json_values,
        "refreshExpiresIn": timestamps,
    }
)
bodies = st.one_of(
    st.binary(max_size=48),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"data": st.fixed_dictionaries({"obtainKrakenToken": token_objects})}
    ).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "data": json_values | st.just(VIEWER_DATA),
            "errors": st.lists(
                st.fixed_dictionaries(
                    {"message": st.text(max_size=8)},
                    optional={
                        "extensions": st.fixed_dictionaries(
                            {
                                "errorCode": st.sampled_from(
                                    [
                                        "KT-CT-1124",
                                        "KT-CT-1199",
                                        "KT-CT-1139",
                                        "KT-CT-4177",
                                        "KT-CT-1188",
                                    ]
                                )
                                | st.text(max_size=6)
                            }
                        )
                    },
                ),
                max_size=2,
            ),
        },
    ).map(lambda v: json.dumps(v).encode()),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(["application/json", "text/html"]),
        "Retry-After": st.sampled_from(["0", "1.5", "nan", "1e999", "-3", "soon"]),
        "Content-Encoding": st.sampled_from(["gzip", "identity", "br"]),
    },
)
statuses = st.just(200) | st.sampled_from([401, 403, 429, 500, 502]) | st.integers(100, 599)


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    kind=st.sampled_from(["async", "sync"]),
    to=st.sampled_from(["the call", "the token request"]),
    status=statuses,
    body=bodies,
    answer_headers=headers,
    later=st.sampled_from([0.0, TOKEN_LIFETIME + 1]),
)
def test_any_answer_gives_a_model_or_a_kraken_error_and_at_most_2_token_requests_a_call(
    kind: str,
    to: str,
    status: int,
    body: bytes,
    answer_headers: dict[str, str],
    later: float,
) -> None:
    """Both clients, default retries: one hostile answer (any status, body, headers, token
    payload) to the call or to its token request, then well-formed answers; the call and a
    second one `later` each end in a model or a KrakenError, and cost at most 2 token requests."""
    clock = FakeClock()
    kraken = FakeKraken(clock)
    answered = False

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal answered
        operation = json.loads(request.content).get("operationName")
        is_token_request = operation in (OBTAIN, REFRESH)
        kraken.sent.append(Sent.of(request))
        if not answered and is_token_request == (to == "the token request"):
            answered = True
            return httpx.Response(status, content=body, headers=answer_headers)
        if is_token_request:
            return kraken.issue_token()
        return data_response(DEFAULT_DATA[operation])

    async def ahandle(request: httpx.Request) -> httpx.Response:
        return handle(request)

    class NoSleep:
        def advance(self, seconds: float) -> None:
            clock.advance(seconds)

    async def one_call(client: Any) -> None:
        before = len(kraken.token_requests)
        try:
            result = client.get_viewer()
            if kind == "async":
                result = await result
            assert isinstance(result, GetViewer)
        except KrakenError:
            pass
        assert len(kraken.token_requests) - before <= 2

    async def run() -> None:
        if kind == "async":
            async with (
                httpx.AsyncClient(transport=httpx.MockTransport(ahandle)) as http,
                KrakenClient(
                    URL, credentials=APIKey(API_KEY_VALUE), http_client=http, clock=clock
                ) as client,
            ):
                await one_call(client)
                clock.advance(later)
                await one_call(client)
        else:
            with (
                httpx.Client(transport=httpx.MockTransport(handle)) as http,
                SyncKrakenClient(
                    URL, credentials=APIKey(API_KEY_VALUE), http_client=http, clock=clock
                ) as sync_client,
            ):
                await one_call(sync_client)
                clock.advance(later)
                await one_call(sync_client)

    with pytest.MonkeyPatch.context() as patch:
        record_waits(patch, NoSleep())
        asyncio.run(run())


def test_the_secrets_helpers_see_what_they_look_for() -> None:
    """The secret checks above can fail: a leaked secret is found."""
    server = FakeKraken(FakeClock())
    token = server.new_token()["token"]
    assert leaked_secrets([], secrets_of(server), f"x {token} y")
    assert [s for s in secrets_of(server) if s in everything_a_reporter_sees(ValueError(token))]
