"""Issue 19's "Behaviour to reach", items 1-5, as an acceptance suite: each test is named for the
item it checks and reads as its sentence, with the issue's own numbers.

Everything goes through the public API (`oeus_kraken`'s exports, the generated clients' methods,
`execute`, httpx) against real loopback servers (`HostileServer`), over the four ways of
calling: our two clients, and raw `httpx.AsyncClient` / `httpx.Client` with a `KrakenAuth`.
`Kraken` below is the scripted endpoint; a second server stands for "another origin".
Written from the issue and the README alone, independent of the other auth suites.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hostile_server import HostileServer, Request, response_bytes

from oeus_kraken import (
    PRODUCTION_URL,
    TEST_URL,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    CallOptions,
    ConfigurationError,
    KrakenAuth,
    KrakenClient,
    KrakenError,
    OrganizationSecretKey,
    RateLimitError,
    SyncKrakenClient,
)

SECRET = "sk_test_acceptance_19_do_not_leak"
CREDENTIALS = OrganizationSecretKey(SECRET)
VIEWER_QUERY = "query getViewer { viewer { id givenName familyName email accounts { number } } }"
KINDS = ["async", "sync", "raw-async", "raw-sync"]
OUR_CLIENTS = ["async", "sync"]
RAW = ["raw-async", "raw-sync"]
Pieces = Iterable[tuple[bytes, float]]


# -- the scripted endpoint -----------------------------------------------------------------------


def answer(body: Any, *, status: str = "200 OK", headers: str = "", delay: float = 0.0) -> Pieces:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return [(response_bytes(raw, status=status, headers=headers), delay)]


def retry_after(seconds: int | None) -> str:
    return "" if seconds is None else f"Retry-After: {seconds}\r\n"


def kt_ct_1199(seconds: int | None = None) -> Pieces:
    errors = [{"message": "Too many requests.", "extensions": {"errorCode": "KT-CT-1199"}}]
    return answer({"data": None, "errors": errors}, headers=retry_after(seconds))


def http_429(seconds: int | None = None) -> Pieces:
    return answer(
        {"detail": "slow down"}, status="429 Too Many Requests", headers=retry_after(seconds)
    )


def cdn_403(seconds: int | None = None) -> Pieces:
    page = b"<html><body>Access Denied (reference #18.2f)</body></html>"
    headers = "Content-Type: text/html\r\n" + retry_after(seconds)
    raw = (  # by hand: response_bytes would call the page JSON
        f"HTTP/1.1 403 Forbidden\r\n{headers}Content-Length: {len(page)}\r\n\r\n".encode() + page
    )
    return [(raw, 0.0)]


RATE_LIMITS: dict[str, Callable[[int | None], Pieces]] = {
    "KT-CT-1199": kt_ct_1199,
    "HTTP 429": http_429,
    "CDN 403": cdn_403,
}


def redirect(status: int, location: str) -> Pieces:
    reason = {301: "Moved Permanently", 302: "Found", 303: "See Other"}.get(status, "Redirect")
    return answer(b"", status=f"{status} {reason}", headers=f"Location: {location}\r\n")


def is_token_request(request: Request) -> bool:
    return b"obtainKrakenToken" in request.body


class Kraken:
    """A Kraken endpoint: token requests get `token_faults` in turn, then a fresh token; other
    requests get `data(request)` (the viewer by default); everything is a 502 while `down`.
    Each answer comes after `delay` seconds (so that concurrent callers overlap)."""

    def __init__(
        self,
        *,
        token_faults: Iterable[Pieces] = (),
        data: Callable[[Request], Pieces] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.token_faults = list(token_faults)
        self.data = data
        self.delay = delay
        self.down = False
        self.tokens: list[str] = []
        self._lock = threading.Lock()
        self.server = HostileServer(self)

    def __enter__(self) -> Kraken:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        return list(self.server.requests)

    def token_requests(self) -> int:
        return sum(is_token_request(r) for r in self.requests)

    def data_requests(self) -> list[Request]:
        return [r for r in self.requests if not is_token_request(r)]

    def __call__(self, request: Request) -> Iterator[tuple[bytes, float]]:
        if self.down:
            yield response_bytes(b"<html>502</html>", status="502 Bad Gateway"), self.delay
            return
        if is_token_request(request):
            with self._lock:
                fault = self.token_faults.pop(0) if self.token_faults else None
                token = f"kraken-token-{len(self.tokens)}-for-acceptance"
                if fault is None:
                    self.tokens.append(token)
            if fault is not None:
                for piece, pause in fault:
                    yield piece, pause + self.delay
                return
            now = int(time.time())
            result = {
                "token": token,
                "payload": {"sub": "org", "iat": now, "exp": now + 3600},
                "refreshToken": "refresh-" + token,
                "refreshExpiresIn": now + 7 * 86400,
            }
            yield from answer({"data": {"obtainKrakenToken": result}}, delay=self.delay)
            return
        if self.data is not None:
            yield from self.data(request)
            return
        viewer = {"id": "1", "givenName": "A", "familyName": "B", "email": "a@example.com"}
        yield from answer({"data": {"viewer": {**viewer, "accounts": []}}}, delay=self.delay)


def secrets_in(request: Request, secrets: Iterable[str]) -> list[str]:
    """Which of `secrets` appear anywhere in what `request` carried."""
    seen = request.path + " ".join(f"{k}: {v}" for k, v in request.headers.items())
    seen += request.body.decode("latin-1")
    return [s for s in secrets if s in seen]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# -- the four ways of calling --------------------------------------------------------------------


class Caller:
    """One way of calling `url` with CREDENTIALS: `call()` makes one viewer call (or, for the raw
    clients, a POST of the viewer query to `target`, `url` by default); `concurrently(n)` n at
    once, as asyncio tasks or as threads; results are values or the exceptions raised.
    `follow_redirects` given, our clients get an `http_client` of that setting; otherwise they
    make their own."""

    def __init__(
        self, kind: str, url: str, *, follow_redirects: bool | None = None, **options: Any
    ) -> None:
        self.kind, self.url = kind, url
        self.http: Any = None
        if kind in OUR_CLIENTS:
            if follow_redirects is not None:
                cls = httpx.AsyncClient if kind == "async" else httpx.Client
                options["http_client"] = self.http = cls(follow_redirects=follow_redirects)
            client = KrakenClient if kind == "async" else SyncKrakenClient
            self.client: Any = client(url, credentials=CREDENTIALS, **options)
        else:
            auth = KrakenAuth(CREDENTIALS, url=url, **options)
            raw = httpx.AsyncClient if kind == "raw-async" else httpx.Client
            self.client = self.http = raw(auth=auth, follow_redirects=bool(follow_redirects))

    @property
    def is_async(self) -> bool:
        return self.kind in ("async", "raw-async")

    async def method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """One of our clients' methods, awaited or run in a thread."""
        if self.kind == "async":
            return await getattr(self.client, name)(*args, **kwargs)
        return await asyncio.to_thread(getattr(self.client, name), *args, **kwargs)

    async def call(self, target: str | None = None) -> Any:
        if self.kind in OUR_CLIENTS:
            return await self.method("get_viewer")
        post = {"query": VIEWER_QUERY, "operationName": "getViewer"}
        if self.kind == "raw-async":
            response = await self.http.post(target or self.url, json=post)
        else:
            response = await asyncio.to_thread(self.http.post, target or self.url, json=post)
        return response

    async def outcome(self, target: str | None = None) -> Any:
        try:
            return await self.call(target)
        except Exception as exc:
            return exc

    async def concurrently(self, n: int) -> list[Any]:
        if self.is_async:
            return await asyncio.gather(*(self.outcome() for _ in range(n)))

        start = threading.Barrier(n)  # concurrent: no thread starts before all are ready

        def one() -> Any:
            start.wait(timeout=30)
            try:
                if self.kind == "sync":
                    return self.client.get_viewer()
                body = {"query": VIEWER_QUERY, "operationName": "getViewer"}
                return self.http.post(self.url, json=body)
            except Exception as exc:
                return exc

        with ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(one) for _ in range(n)]
            return await asyncio.to_thread(lambda: [f.result(timeout=60) for f in futures])

    async def close(self) -> None:
        if self.kind == "async":
            await self.client.aclose()
        elif self.kind == "sync":
            self.client.close()
        if self.http is None:
            return
        if self.is_async:
            await self.http.aclose()
        else:
            self.http.close()


def succeeded(outcome: Any) -> bool:
    if isinstance(outcome, httpx.Response):
        return outcome.status_code == 200 and "viewer" in outcome.json().get("data", {})
    return not isinstance(outcome, BaseException) and outcome.viewer is not None


# == 1. One endpoint ============================================================================


def test_item1_kraken_auth_url_defaults_to_production_url_like_the_clients() -> None:
    assert KrakenAuth(CREDENTIALS).url == PRODUCTION_URL
    assert KrakenAuth(CREDENTIALS, url=TEST_URL).url == TEST_URL
    assert KrakenAuth(CREDENTIALS, url="https://kraken.example.net/v1/graphql/").url == (
        "https://kraken.example.net/v1/graphql/"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/graphql/",
        "http://localhost/graphql/",
        "http://[::1]:9000/graphql/",
        "https://api.example.com/graphql/",
    ],
)
def test_item1_kraken_auth_takes_https_or_loopback_http_as_the_clients_do(url: str) -> None:
    KrakenAuth(CREDENTIALS, url=url)
    SyncKrakenClient(url, credentials=CREDENTIALS).close()


BAD_URLS = [
    "http://api.example.com/graphql/",  # plain http off loopback
    "http://10.0.0.5/graphql/",
    "ftp://api.example.com/graphql/",
    "api.example.com/graphql/",
    "https://",
    "",
    "not a url",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_item1_a_bad_kraken_auth_url_is_a_configuration_error_at_construction(url: str) -> None:
    with pytest.raises(ConfigurationError):
        KrakenAuth(CREDENTIALS, url=url)
    with pytest.raises(ConfigurationError):  # the same rule as the clients
        SyncKrakenClient(url, credentials=CREDENTIALS)


def test_item1_plain_http_off_loopback_is_accepted_with_allow_insecure_http() -> None:
    KrakenAuth(CREDENTIALS, url="http://api.example.com/graphql/", allow_insecure_http=True)


@pytest.mark.parametrize("kind", RAW)
@pytest.mark.parametrize("token_held", [False, True], ids=["no-token-yet", "token-held"])
@pytest.mark.parametrize("other", ["other-port", "other-host", "other-scheme"])
async def test_item1_a_request_to_another_origin_is_refused_naming_both_before_anything_is_sent(
    kind: str, token_held: bool, other: str
) -> None:
    with Kraken() as kraken, Kraken() as elsewhere:
        port = urlsplit(kraken.url).port
        target = {
            "other-port": elsewhere.url,
            "other-host": f"http://localhost:{port}/v1/graphql/",  # same port, other host
            "other-scheme": f"https://127.0.0.1:{port}/v1/graphql/",
        }[other]
        caller = Caller(kind, kraken.url)
        try:
            if token_held:
                assert succeeded(await caller.call())
            before = len(kraken.requests)
            with pytest.raises(ConfigurationError) as raised:
                await caller.call(target)
        finally:
            await caller.close()
        message = str(raised.value)
        assert origin(kraken.url) in message
        assert origin(target) in message
        assert len(kraken.requests) == before  # nothing sent, no token request
        assert elsewhere.requests == []
        assert SECRET not in message
        assert not any(token in message for token in kraken.tokens)


@pytest.mark.parametrize("kind", RAW)
async def test_item1_a_request_to_the_same_origin_on_another_path_is_not_refused(kind: str) -> None:
    with Kraken() as kraken:
        caller = Caller(kind, kraken.url)
        try:
            response = await caller.call(origin(kraken.url) + "/other/path?x=1")
        finally:
            await caller.close()
        assert response.status_code == 200
        assert kraken.requests[-1].path == "/other/path?x=1"


@pytest.mark.parametrize("kind", OUR_CLIENTS)
async def test_item1_our_clients_build_their_kraken_auth_bound_to_their_own_url(kind: str) -> None:
    with Kraken() as kraken, Kraken() as elsewhere:
        # An http_client whose base_url is another origin changes nothing: the client's url rules.
        http: Any = (httpx.AsyncClient if kind == "async" else httpx.Client)(base_url=elsewhere.url)
        cls = KrakenClient if kind == "async" else SyncKrakenClient
        client: Any = cls(kraken.url, credentials=CREDENTIALS, http_client=http)
        try:
            result = client.get_viewer()
            result = await result if kind == "async" else result
        finally:
            await client.aclose() if kind == "async" else client.close()
            await http.aclose() if kind == "async" else http.close()
        assert result.viewer is not None
        assert kraken.token_requests() == 1
        assert elsewhere.requests == []


# == 2. Token requests are never redirected ========================================================


@pytest.mark.parametrize("kind", OUR_CLIENTS)
@pytest.mark.parametrize("follow_redirects", [False, True], ids=["no-follow", "follow"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_item2_our_clients_never_follow_a_redirect_for_a_token_request(
    kind: str, follow_redirects: bool, status: int
) -> None:
    with Kraken() as elsewhere:
        location = elsewhere.url + "steal?key=stolen&next=1"
        with Kraken(token_faults=[redirect(status, location)] * 10) as kraken:
            caller = Caller(kind, kraken.url, follow_redirects=follow_redirects, max_retries=0)
            try:
                with pytest.raises(APIStatusError) as raised:
                    await caller.call()
            finally:
                await caller.close()
        message = str(raised.value)
        assert raised.value.status_code == status
        assert str(status) in message
        assert origin(location) in message
        assert "/steal" not in message
        assert "stolen" not in message
        assert SECRET not in message
        assert elsewhere.requests == []  # nothing sent to the Location


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("follow_redirects", [False, True], ids=["no-follow", "follow"])
async def test_item2_a_token_request_redirected_within_its_own_origin_is_not_followed_either(
    kind: str, follow_redirects: bool
) -> None:
    with Kraken(token_faults=[redirect(307, "/elsewhere?key=1")] * 10) as kraken:
        options: dict[str, Any] = {"max_retries": 0} if kind in OUR_CLIENTS else {}
        caller = Caller(kind, kraken.url, follow_redirects=follow_redirects, **options)
        try:
            with pytest.raises(KrakenError) as raised:
                await caller.call()
        finally:
            await caller.close()
        assert [r.path for r in kraken.requests] == ["/v1/graphql/"]
    if kind in OUR_CLIENTS or not follow_redirects:  # (followed, httpx's resend is refused)
        # Not "the credential goes to <this origin> only, and was not sent there" of its own.
        assert "never redirected, so it was not sent again" in str(raised.value)


@pytest.mark.parametrize("kind", RAW)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_item2_a_raw_client_following_redirects_sends_no_credential_to_the_other_origin(
    kind: str, status: int
) -> None:
    # The other origin answers as a Kraken would, token and all: it still gets no credential,
    # and its token is no success.
    with Kraken() as elsewhere:
        with Kraken(token_faults=[redirect(status, elsewhere.url)] * 10) as kraken:
            caller = Caller(kind, kraken.url, follow_redirects=True)
            try:
                with pytest.raises(KrakenError):
                    await caller.call()
            finally:
                await caller.close()
        for request in elsewhere.requests:
            assert secrets_in(request, [SECRET]) == []
            assert "authorization" not in request.headers
        assert [r for r in kraken.data_requests() if "authorization" in r.headers] == []


@pytest.mark.parametrize("kind", RAW)
async def test_item2_a_raw_client_not_following_redirects_raises_a_kraken_error(kind: str) -> None:
    with Kraken() as elsewhere:
        with Kraken(token_faults=[redirect(307, elsewhere.url)]) as kraken:
            caller = Caller(kind, kraken.url)
            try:
                with pytest.raises(KrakenError):
                    await caller.call()
            finally:
                await caller.close()
        assert elsewhere.requests == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [302, 307, 308])
async def test_item2_a_data_request_redirected_to_another_origin_never_carries_the_token_there(
    kind: str, status: int
) -> None:
    def refuse(request: Request) -> Pieces:
        errors = [{"message": "no", "extensions": {"errorCode": "KT-CT-1124"}}]
        return answer({"errors": errors}, status="401 Unauthorized")

    with Kraken(data=refuse) as elsewhere:
        with Kraken(data=lambda r: redirect(status, elsewhere.url + "grab?t=1")) as kraken:
            caller = Caller(kind, kraken.url, follow_redirects=True)
            try:
                for _ in range(2):
                    # The other origin's rejection names it; the token it never saw is kept.
                    with pytest.raises(APIStatusError) as raised:
                        await caller.call()
                    assert origin(elsewhere.url) in str(raised.value)
            finally:
                await caller.close()
        assert kraken.token_requests() == 1
        assert len(kraken.tokens) == 1
        assert len(elsewhere.requests) == 2
        for request in elsewhere.requests:
            assert secrets_in(request, [*kraken.tokens, SECRET]) == []


# == 3. Short rate limits are waited out ===========================================================


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "limit", "seconds"),
    [
        ("async", "KT-CT-1199", None),
        ("async", "HTTP 429", 1),
        ("async", "CDN 403", None),
        ("sync", "KT-CT-1199", 1),
        ("sync", "HTTP 429", None),
        ("sync", "CDN 403", 1),
    ],
)
async def test_item3_twice_rate_limited_then_ok_20_concurrent_callers_20_successes_3_token_requests(
    kind: str, limit: str, seconds: int | None
) -> None:
    """Tasks for the async client, threads for the sync one."""
    with Kraken(token_faults=[RATE_LIMITS[limit](seconds)] * 2, delay=0.05) as kraken:
        caller = Caller(kind, kraken.url, max_retries=3)
        try:
            outcomes = await caller.concurrently(20)
        finally:
            await caller.close()
        failures = [o for o in outcomes if not succeeded(o)]
        assert failures == [], failures[:3]
        assert kraken.token_requests() <= 3


@pytest.mark.slow
@pytest.mark.parametrize("limit", list(RATE_LIMITS))
@pytest.mark.parametrize("seconds", [None, 1])
def test_item3_a_single_sync_call_with_max_retries_3_succeeds(
    limit: str, seconds: int | None
) -> None:
    with Kraken(token_faults=[RATE_LIMITS[limit](seconds)] * 2) as kraken:
        with SyncKrakenClient(kraken.url, credentials=CREDENTIALS, max_retries=3) as client:
            assert client.get_viewer().viewer is not None
        assert kraken.token_requests() == 3


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("limit", list(RATE_LIMITS))
@pytest.mark.parametrize("gate", [31, 60])
async def test_item3_a_gate_longer_than_30_s_still_raises_rate_limit_error_with_retry_after_at_once(
    kind: str, limit: str, gate: int
) -> None:
    options: dict[str, Any] = {"max_retries": 3} if kind in OUR_CLIENTS else {}
    with Kraken(token_faults=[RATE_LIMITS[limit](gate)] * 10) as kraken:
        caller = Caller(kind, kraken.url, **options)
        try:
            started = time.monotonic()
            with pytest.raises(RateLimitError) as first:
                await caller.call()
            with pytest.raises(RateLimitError) as second:  # the gate is closed: nothing sent
                await caller.call()
            took = time.monotonic() - started
        finally:
            await caller.close()
        assert first.value.retry_after == gate  # its own token request's Retry-After
        assert second.value.retry_after is not None
        assert gate - 5 < second.value.retry_after <= gate
        assert kraken.token_requests() == 1
        assert took < 10  # "at once": not the gate, nor a wait of up to 30 s


@pytest.mark.parametrize("kind", RAW)
@pytest.mark.parametrize("limit", list(RATE_LIMITS))
async def test_item3_a_raw_client_has_no_retries_so_a_rate_limited_token_request_raises_at_once(
    kind: str, limit: str
) -> None:
    with Kraken(token_faults=[RATE_LIMITS[limit](None)]) as kraken:
        caller = Caller(kind, kraken.url)
        try:
            with pytest.raises(RateLimitError) as raised:
                await caller.call()
            assert raised.value.retry_after is None  # the answer gave none
            with pytest.raises(RateLimitError) as gated:  # the default gate, about 1 s
                await caller.call()
            assert gated.value.retry_after is not None
            assert 0 < gated.value.retry_after <= 1.5
            assert kraken.token_requests() == 1
            await asyncio.sleep(gated.value.retry_after + 0.05)
            assert succeeded(await caller.call())  # the gate opened: one more token request
        finally:
            await caller.close()
        assert kraken.token_requests() == 2


@pytest.mark.parametrize("kind", OUR_CLIENTS)
@pytest.mark.parametrize("limit", list(RATE_LIMITS))
async def test_item3_a_call_with_retries_left_waits_for_a_gate_another_call_closed(
    kind: str, limit: str
) -> None:
    with Kraken(token_faults=[RATE_LIMITS[limit](1)]) as kraken:
        caller = Caller(kind, kraken.url, max_retries=2)
        stop_at_once = CallOptions(retry_rate_limits=False)
        try:
            with pytest.raises(RateLimitError):
                await caller.method("get_viewer", options=stop_at_once)
            assert kraken.token_requests() == 1
            assert succeeded(await caller.call())  # waits the ~1 s gate, then one token request
        finally:
            await caller.close()
        assert kraken.token_requests() == 2


@pytest.mark.parametrize("kind", OUR_CLIENTS)
async def test_item3_a_call_with_no_retries_left_raises_rate_limit_error_at_once(kind: str) -> None:
    with Kraken(token_faults=[kt_ct_1199(2)] * 3) as kraken:
        caller = Caller(kind, kraken.url, max_retries=0)
        try:
            with pytest.raises(RateLimitError) as raised:
                await caller.call()
        finally:
            await caller.close()
        assert raised.value.retry_after == 2
        assert kraken.token_requests() == 1


# == 4. No storm on a dead endpoint ================================================================


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
async def test_item4_every_request_502_20_concurrent_callers_max_retries_2_at_most_3_token_requests(
    kind: str,
) -> None:
    """Tasks for the async callers, threads for the sync ones. A raw client has no retries:
    its one wave gets one token request."""
    options: dict[str, Any] = {"max_retries": 2} if kind in OUR_CLIENTS else {}
    with Kraken(delay=0.2) as kraken:
        kraken.down = True
        caller = Caller(kind, kraken.url, **options)
        try:
            outcomes = await caller.concurrently(20)
            assert kraken.token_requests() <= (3 if kind in OUR_CLIENTS else 1)
            for outcome in outcomes:
                assert isinstance(outcome, KrakenError), outcome
                assert not isinstance(outcome, AuthenticationError), outcome
                assert isinstance(outcome, APIStatusError), (
                    outcome
                )  # README: each an APIStatusError
            # Recovery: the next call succeeds at once, on its first attempt.
            kraken.down = False
            kraken.delay = 0.0
            before = len(kraken.requests)
            assert succeeded(await caller.call())
            assert len(kraken.requests) - before == 2  # one token request, one data request
        finally:
            await caller.close()


async def test_item4_threads_and_tasks_sharing_one_kraken_auth_share_one_token_request() -> None:
    with Kraken(delay=0.1) as kraken:
        kraken.down = True
        auth = KrakenAuth(CREDENTIALS, url=kraken.url)
        body = {"query": VIEWER_QUERY}
        start = threading.Barrier(11)

        def thread_call() -> Any:
            start.wait(timeout=30)
            try:
                return blocking.post(kraken.url, json=body)
            except Exception as exc:
                return exc

        async def task_call() -> Any:
            try:
                return await awaiting.post(kraken.url, json=body)
            except Exception as exc:
                return exc

        loop = asyncio.get_running_loop()
        with (
            httpx.Client(auth=auth) as blocking,
            ThreadPoolExecutor(11) as pool,
        ):
            async with httpx.AsyncClient(auth=auth) as awaiting:
                threads = [loop.run_in_executor(pool, thread_call) for _ in range(10)]
                await loop.run_in_executor(pool, start.wait)
                outcomes = await asyncio.gather(*threads, *(task_call() for _ in range(10)))
        assert kraken.token_requests() == 1
        assert all(isinstance(o, APIStatusError) for o in outcomes), outcomes


# == 5. Mutations are known by their parsed operation type =========================================

BODY = "customerCreateQuote(accountNumber: $n) { quote { code } }"
MUTATIONS = {
    "comment-first": f"# creates a quote\nmutation quoteIt($n: String!) {{ {BODY} }}",
    "comment-naming-query": f"# query first? no\nmutation quoteIt($n: String!) {{ {BODY} }}",
    "fragment-first": (
        "fragment Q on CustomerCreateQuote { quote { code } }\n"
        "mutation quoteIt($n: String!) { customerCreateQuote(accountNumber: $n) { ...Q } }"
    ),
    "lower-case-name": f"mutation quoteit($n: String!) {{ {BODY} }}",
    "no-space": f"mutation quoteIt($n:String!){{{BODY}}}",
    "leading-blank-lines-and-commas": f"\n\n ,, mutation quoteIt($n: String!) {{ {BODY} }}",
    "byte-order-mark": f"\ufeffmutation quoteIt($n: String!) {{ {BODY} }}",
    "query-then-mutation": (
        f"query other {{ viewer {{ email }} }}\nmutation quoteIt($n: String!) {{ {BODY} }}"
    ),
}
# Sent with no operation name: the document's one operation is the one sent (the others are
# sent as quoteIt).
UNNAMED_MUTATIONS = {
    "anonymous": f"mutation ($n: String!) {{ {BODY} }}",
    "named-but-not-named-in-the-call": f"# hi\nmutation quoteIt($n: String!) {{ {BODY} }}",
}
QUERIES = {
    "named-like-a-mutation": "query mutationLog { viewer { email } }",
    "comment-says-mutation": "# mutation\nquery quoteIt { viewer { email } }",
    "mutation-then-query": (
        f"mutation other($n: String!) {{ {BODY} }}\nquery quoteIt {{ viewer {{ email }} }}"
    ),
}


def stalled(request: Request) -> Pieces:
    """No answer before the client's timeout."""
    return [(response_bytes(b'{"data": {}}'), 2.0)]


def cut_mid_answer(request: Request) -> Iterator[tuple[bytes, float]]:
    """A connection lost mid-response: half the head, then the connection closes (HostileServer
    closes a connection whose answer raises OSError)."""
    yield b"HTTP/1.1 200 OK\r\nContent-Le", 0.0
    raise OSError("connection lost")


async def _execute(
    kind: str, url: str, document: str, name: str | None = "quoteIt", **options: Any
) -> None:
    """`execute`, as every generated method (ours and users') calls it."""
    caller = Caller(kind, url, timeout=0.5, **options)
    try:
        await caller.method("execute", document, name, {"n": "A-1"})
    finally:
        await caller.close()


@pytest.mark.parametrize("kind", OUR_CLIENTS)
@pytest.mark.parametrize("document", [*MUTATIONS, *UNNAMED_MUTATIONS])
async def test_item5_a_mutation_however_its_document_opens_is_never_retried_after_a_timeout(
    kind: str, document: str
) -> None:
    text = {**MUTATIONS, **UNNAMED_MUTATIONS}[document]
    name = "quoteIt" if document in MUTATIONS else None
    with Kraken(data=stalled) as kraken:
        with pytest.raises(APITimeoutError):
            await _execute(kind, kraken.url, text, name, max_retries=2)
        assert len(kraken.data_requests()) == 1


@pytest.mark.parametrize("kind", OUR_CLIENTS)
@pytest.mark.parametrize("document", ["comment-first", "fragment-first", "lower-case-name"])
async def test_item5_a_mutation_is_never_retried_after_a_connection_lost_mid_response(
    kind: str, document: str
) -> None:
    with Kraken(data=cut_mid_answer) as kraken:
        with pytest.raises(KrakenError) as raised:
            await _execute(kind, kraken.url, MUTATIONS[document], max_retries=2)
        assert not isinstance(raised.value, APITimeoutError)  # lost, not slow
        assert len(kraken.data_requests()) == 1


@pytest.mark.parametrize("kind", OUR_CLIENTS)
@pytest.mark.parametrize("document", list(QUERIES))
async def test_item5_a_query_that_only_looks_like_a_mutation_is_retried_after_a_timeout(
    kind: str, document: str
) -> None:
    with Kraken(data=stalled) as kraken:
        with pytest.raises(APITimeoutError):
            await _execute(kind, kraken.url, QUERIES[document], max_retries=1)
        assert len(kraken.data_requests()) == 2


@pytest.mark.parametrize("kind", OUR_CLIENTS)
async def test_item5_our_own_mutation_methods_are_never_retried_after_a_timeout(kind: str) -> None:
    with Kraken(data=stalled) as kraken:
        caller = Caller(kind, kraken.url, timeout=0.5, max_retries=2)
        try:
            with pytest.raises(APITimeoutError):
                await caller.method("create_customer_quote", "A-1234ABCD")
        finally:
            await caller.close()
        [sent] = kraken.data_requests()
        assert json.loads(sent.body)["operationName"] == "createCustomerQuote"
