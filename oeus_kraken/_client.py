"""`KrakenClient` (async) and `SyncKrakenClient`: the generated clients plus authentication.

Each class subclasses its generated client, so it has every generated operation method, and
overrides the generated base client's `execute` (which every operation method calls) to attach
the Kraken token, and `parse_result` to turn every failure into a KrakenError.

What to do is decided once, without I/O, by `TokenManager` (tokens), `read_response` (answers) and
`ClientConfig` (options). The two classes below only carry those decisions out, one with `await`
and an asyncio.Lock, one blocking with a threading.Lock; their methods mirror each other line for
line, so read one and you have read both.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
import pydantic
from oeus_kraken_generated.async_client import GeneratedAsyncClient
from oeus_kraken_generated.sync_client import GeneratedSyncClient
from typing_extensions import Self

from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_REFRESH_MARGIN,
    DEFAULT_TIMEOUT,
    PRODUCTION_URL,
    PUBLIC_OPERATIONS,
    TOKEN_OPERATIONS,
    ClientConfig,
    credentials_from_env,
    url_from_env,
)
from ._credentials import Credentials
from ._errors import APIConnectionError, APITimeoutError, InvalidResponseError, KrakenError
from ._responses import TokenRejectedError, read_response
from ._retry import RetryPolicy, is_mutation
from ._token_store import TokenStore, store_key
from ._tokens import TokenInfo, TokenManager, TokenRequest, TokenUse, UseToken

if TYPE_CHECKING:
    from oeus_kraken_generated.fragments import KrakenToken

__all__ = ["KrakenClient", "SyncKrakenClient"]

logger = logging.getLogger("oeus_kraken")

_Result = TypeVar("_Result", bound=pydantic.BaseModel)
# Where execute() leaves the decoded `data`, so parse_result() does not decode the body again.
_DATA_KEY = "oeus_kraken.data"
_OPERATION_KEY = "oeus_kraken.operation"


class _Envelope(pydantic.BaseModel, Generic[_Result]):
    """A GraphQL response body with no errors: `{"data": <the result model>}`."""

    # Built on first use: defining it must not cost import time.
    model_config = pydantic.ConfigDict(defer_build=True)

    data: _Result


_envelopes: dict[type[pydantic.BaseModel], Any] = {}


def _envelope(model: type[_Result]) -> type[_Envelope[_Result]]:
    """`_Envelope[model]`, built once per model (pydantic caches it too, but keying the cache
    costs more than this dict lookup)."""
    envelope = _envelopes.get(model)
    if envelope is None:
        envelope = _envelopes[model] = _Envelope[model]  # type: ignore[valid-type]
    return envelope


class _ClientCommon:
    """The parts of both clients that do no I/O."""

    _config: ClientConfig
    _tokens: TokenManager

    def _setup(
        self,
        url: str,
        credentials: Credentials | None,
        refresh_margin: float,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        token_store: TokenStore | None,
        allow_insecure_http: bool,
        clock: Callable[[], float] | None,
    ) -> ClientConfig:
        config = ClientConfig.build(
            url, credentials, refresh_margin, timeout, max_retries, allow_insecure_http
        )
        self._config = config
        self._retry = RetryPolicy(max_retries=config.max_retries)
        self._tokens = TokenManager(
            config.credentials,
            refresh_margin=config.refresh_margin,
            clock=clock or time.time,
            store=token_store,
            store_key=store_key(config.url, config.credentials) if config.credentials else "",
        )
        return config

    def _retry_delay(
        self, retries_done: int, error: KrakenError, query: str, operation_name: str | None
    ) -> float | None:
        """How long to wait before sending this request again, or None to raise `error`."""
        if operation_name in TOKEN_OPERATIONS:
            # Token requests are paced by TokenManager's shared cooldown instead; retrying them
            # here too would multiply attempts against the endpoint most prone to lock-outs.
            return None
        delay = self._retry.delay(retries_done, error, mutation=is_mutation(query))
        if delay is not None:
            logger.warning(
                "%s failed (%s: %s); retry %d of %d in %.1f s",
                operation_name or "GraphQL request",
                type(error).__name__,
                error.error_code or error.status_code or "no answer",
                retries_done + 1,
                self._retry.max_retries,
                delay,
            )
        return delay

    @property
    def credentials(self) -> Credentials | None:
        return self._config.credentials

    @property
    def refresh_margin(self) -> float:
        return self._config.refresh_margin

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self._config.url!r}, credentials={self.credentials!r})"

    @staticmethod
    def _headers(kwargs: dict[str, Any], token: str | None) -> dict[str, str]:
        headers = dict(kwargs.pop("headers", None) or {})
        # The token request and public operations carry no Authorization at all: a stale token
        # sent with a login makes Kraken answer "Signature of the JWT has expired".
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        if token is not None:
            headers["Authorization"] = token
        return headers

    @staticmethod
    def _transport_error(exc: httpx.HTTPError, operation_name: str | None) -> KrakenError:
        what = operation_name or "GraphQL request"
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"{what}: timed out ({type(exc).__name__}); the API did not answer in time. "
                "Retry later, or raise timeout=.",
                operation_name=operation_name,
            )
        return APIConnectionError(
            f"{what}: could not reach the Kraken API ({type(exc).__name__}: {exc}). "
            "Check the URL and the network.",
            operation_name=operation_name,
        )

    def _read(
        self, response: httpx.Response, operation_name: str | None, token: str | None
    ) -> None:
        """Check the answer before it is handed back to the generated method. If the API
        rejected `token`, forget exactly that token before the error propagates, so that no later
        call sends it again."""
        response.extensions[_OPERATION_KEY] = operation_name
        if response.status_code == 200 and b'"errors"' not in response.content:
            # The common case: no GraphQL errors. parse_result validates the bytes straight into
            # the result model (pydantic's JSON mode, no intermediate Python dicts).
            return
        try:
            response.extensions[_DATA_KEY] = read_response(response, operation_name)
        except TokenRejectedError as rejected:
            if token is not None:
                self._tokens.token_rejected(token, rejected.error_code)
            raise

    def get_data(self, response: Any) -> dict[str, Any]:
        data = response.extensions.get(_DATA_KEY)
        if data is None:
            data = read_response(response, response.extensions.get(_OPERATION_KEY))
        return data  # type: ignore[no-any-return]

    def parse_result(self, model: type[_Result], response: Any) -> _Result:
        if _DATA_KEY not in response.extensions:
            try:
                return _envelope(model).model_validate_json(response.content).data
            except pydantic.ValidationError:
                pass  # not JSON, no `data`, or a mismatch: the slow path below says which
        data = self.get_data(response)
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            # Field locations and pydantic's reasons only: the offending values could be secrets.
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)[:5]
            )
            raise InvalidResponseError(
                f"the answer does not match the {model.__name__} model generated from "
                f"schema.graphql ({problems}). The API may have changed: see `make schema`.",
                operation_name=response.extensions.get(_OPERATION_KEY),
                status_code=response.status_code,
            ) from exc

    @staticmethod
    def _token_from(result: Any, step: TokenRequest) -> KrakenToken:
        token: KrakenToken | None = result.obtain_kraken_token
        if token is None:
            raise InvalidResponseError(
                f"{step.use.value}: the API answered without a token", operation_name=step.use.value
            )
        return token


class KrakenClient(_ClientCommon, GeneratedAsyncClient):
    """Async client for the Kraken API. Use `async with KrakenClient(...) as client:`."""

    def __init__(
        self,
        url: str = PRODUCTION_URL,
        *,
        credentials: Credentials | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        token_store: TokenStore | None = None,
        http_client: httpx.AsyncClient | None = None,
        allow_insecure_http: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        config = self._setup(
            url,
            credentials,
            refresh_margin,
            timeout,
            max_retries,
            token_store,
            allow_insecure_http,
            clock,
        )
        self._owns_http_client = http_client is None
        # The generated HttpClient protocol is narrower than httpx's real signature (positional
        # vs keyword-only `json`), so httpx.AsyncClient does not match it structurally.
        super().__init__(
            url=config.url,
            http_client=http_client or httpx.AsyncClient(timeout=config.timeout),  # type: ignore[arg-type]
        )
        self._token_lock = asyncio.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Self:
        """A client for KRAKEN_URL with the credential the KRAKEN_* variables name."""
        return cls(url_from_env(environ), credentials=credentials_from_env(environ), **options)

    async def authenticate(self) -> TokenInfo:
        """Make sure a usable token is held (obtaining or refreshing it if needed) and describe
        it. Optional: every operation does this by itself. Useful to check credentials early."""
        await self._token()
        return self._tokens.token_info()

    async def aclose(self) -> None:
        """Close the HTTP client, unless it was passed in (its owner closes it)."""
        if self._owns_http_client:
            await self.http_client.aclose()

    async def __aexit__(self, exc_type: object, exc_val: object, exc_tb: object) -> None:
        await self.aclose()

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        retries_done = 0
        while True:
            try:
                return await self._execute_once(query, operation_name, variables, kwargs)
            except KrakenError as error:
                delay = self._retry_delay(retries_done, error, query, operation_name)
                if delay is None:
                    raise
            retries_done += 1
            await asyncio.sleep(delay)

    async def _execute_once(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        token = None if operation_name in PUBLIC_OPERATIONS else await self._token()
        response = await self._send(query, operation_name, variables, token, dict(kwargs))
        try:
            self._read(response, operation_name, token)
        except TokenRejectedError:
            if token is None:
                raise
            # Once: the rejected token is forgotten; get a fresh one and retry. A second
            # rejection propagates.
            token = await self._token()
            response = await self._send(query, operation_name, variables, token, dict(kwargs))
            self._read(response, operation_name, token)
        return response

    async def _send(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        token: str | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        headers = self._headers(kwargs, token)
        try:
            response = await super().execute(
                query, operation_name, variables, headers=headers, **kwargs
            )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, operation_name) from exc
        return response  # type: ignore[return-value]

    async def _token(self) -> str:
        step = self._tokens.next_step(refresh_under_way=self._token_lock.locked())
        if isinstance(step, UseToken):
            return step.token
        # Single flight: one caller requests, the others wait here and then find its token.
        async with self._token_lock:
            while True:
                step = self._tokens.next_step()
                if isinstance(step, UseToken):
                    return step.token
                try:
                    token = await self._request_token(step)
                except KrakenError as error:
                    self._tokens.token_request_failed(step, error)
                else:
                    return self._tokens.token_received(step, token)

    async def _request_token(self, step: TokenRequest) -> KrakenToken:
        logger.debug("Requesting a Kraken token (%s) with %s", step.use.value, step.credential)
        if step.use is TokenUse.REFRESH:
            return self._token_from(await self.refresh_kraken_token(input=step.input), step)
        return self._token_from(await self.get_kraken_token(input=step.input), step)


class SyncKrakenClient(_ClientCommon, GeneratedSyncClient):
    """Blocking client for the Kraken API. Use `with SyncKrakenClient(...) as client:`.
    Safe to share between threads."""

    def __init__(
        self,
        url: str = PRODUCTION_URL,
        *,
        credentials: Credentials | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        token_store: TokenStore | None = None,
        http_client: httpx.Client | None = None,
        allow_insecure_http: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        config = self._setup(
            url,
            credentials,
            refresh_margin,
            timeout,
            max_retries,
            token_store,
            allow_insecure_http,
            clock,
        )
        self._owns_http_client = http_client is None
        super().__init__(
            url=config.url,
            http_client=http_client or httpx.Client(timeout=config.timeout),  # type: ignore[arg-type]
        )
        self._token_lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Self:
        """A client for KRAKEN_URL with the credential the KRAKEN_* variables name."""
        return cls(url_from_env(environ), credentials=credentials_from_env(environ), **options)

    def authenticate(self) -> TokenInfo:
        """Make sure a usable token is held (obtaining or refreshing it if needed) and describe
        it. Optional: every operation does this by itself. Useful to check credentials early."""
        self._token()
        return self._tokens.token_info()

    def close(self) -> None:
        """Close the HTTP client, unless it was passed in (its owner closes it)."""
        if self._owns_http_client:
            self.http_client.close()

    def __exit__(self, exc_type: object, exc_val: object, exc_tb: object) -> None:
        self.close()

    def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        retries_done = 0
        while True:
            try:
                return self._execute_once(query, operation_name, variables, kwargs)
            except KrakenError as error:
                delay = self._retry_delay(retries_done, error, query, operation_name)
                if delay is None:
                    raise
            retries_done += 1
            time.sleep(delay)

    def _execute_once(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        token = None if operation_name in PUBLIC_OPERATIONS else self._token()
        response = self._send(query, operation_name, variables, token, dict(kwargs))
        try:
            self._read(response, operation_name, token)
        except TokenRejectedError:
            if token is None:
                raise
            token = self._token()
            response = self._send(query, operation_name, variables, token, dict(kwargs))
            self._read(response, operation_name, token)
        return response

    def _send(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        token: str | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        headers = self._headers(kwargs, token)
        try:
            response = super().execute(query, operation_name, variables, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, operation_name) from exc
        return response  # type: ignore[return-value]

    def _token(self) -> str:
        step = self._tokens.next_step(refresh_under_way=self._token_lock.locked())
        if isinstance(step, UseToken):
            return step.token
        with self._token_lock:
            while True:
                step = self._tokens.next_step()
                if isinstance(step, UseToken):
                    return step.token
                try:
                    token = self._request_token(step)
                except KrakenError as error:
                    self._tokens.token_request_failed(step, error)
                else:
                    return self._tokens.token_received(step, token)

    def _request_token(self, step: TokenRequest) -> KrakenToken:
        logger.debug("Requesting a Kraken token (%s) with %s", step.use.value, step.credential)
        if step.use is TokenUse.REFRESH:
            return self._token_from(self.refresh_kraken_token(input=step.input), step)
        return self._token_from(self.get_kraken_token(input=step.input), step)
