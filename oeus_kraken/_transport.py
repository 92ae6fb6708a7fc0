"""The http_client of the clients we make: httpx's own, its sockets cut to the call's deadline, its
cookie jar consulted only by answers that set a cookie.

httpx's timeouts apply to each socket operation: a server that trickles its answer a few bytes at
a time, each within the read timeout, can hold a call for as long as it likes. Our clients give
each attempt a total time limit (`_deadline`); this transport makes the sockets honour it by
shortening every connect, read and write to the time left, so that the attempt ends with a
timeout at its deadline whatever the server does.

It wraps httpcore's network backend (a public httpcore interface), which httpx's transport keeps
in a private attribute: if a future httpx moves it, the transport is used as it is, and the
deadline is still checked between chunks of the answer (`_responses.read_capped`), only not
within one.

httpx hands every answer to its cookie jar, wrapping the answer and its request in urllib's
types first (~15 µs, a tenth of a small call), though a Kraken answer sets no cookie. Our
clients' jar skips that for an answer without Set-Cookie; one with it is read as httpx reads it.
"""

from __future__ import annotations

import ssl
import time
import typing
from typing import Any

import httpcore
import httpx

from . import _deadline

__all__ = ["new_http_client"]


def _cut(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _deadline.DEADLINE.get()  # (read directly: this runs on every socket operation)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the call's time limit has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _cut(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _cut(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._stream.start_tls(
                ssl_context, server_hostname, _cut(timeout, httpcore.ConnectTimeout)
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._backend.connect_tcp(
                host, port, _cut(timeout, httpcore.ConnectTimeout), local_address, socket_options
            )
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._backend.connect_unix_socket(
                path, _cut(timeout, httpcore.ConnectTimeout), socket_options
            )
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, _cut(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, _cut(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(
            await self._stream.start_tls(
                ssl_context, server_hostname, _cut(timeout, httpcore.ConnectTimeout)
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(
            await self._backend.connect_tcp(
                host, port, _cut(timeout, httpcore.ConnectTimeout), local_address, socket_options
            )
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(
            await self._backend.connect_unix_socket(
                path, _cut(timeout, httpcore.ConnectTimeout), socket_options
            )
        )

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def _with_backend(transport: Any, wrap: Any) -> Any:
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is not None:
        pool._network_backend = wrap(backend)  # type: ignore[union-attr]
    return transport


class _AnswerCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class _WithAnswerCookies:
    """An httpx client whose jar is an _AnswerCookies. httpx keeps its jar in `_cookies` (its
    `cookies` setter would wrap ours in a plain Cookies); should a later httpx keep it elsewhere,
    this sets an unused attribute, and the client is only slower."""

    _cookies: httpx.Cookies

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._cookies = _AnswerCookies()


class _Client(_WithAnswerCookies, httpx.Client):
    pass


class _AsyncClient(_WithAnswerCookies, httpx.AsyncClient):
    pass


# The classes RequestBuilder may build requests for itself (they build requests as httpx does).
PLAIN_CLIENTS = (httpx.Client, httpx.AsyncClient, _Client, _AsyncClient)


def new_http_client(timeout: httpx.Timeout, *, is_async: bool) -> httpx.Client | httpx.AsyncClient:
    """An http_client for a client of ours that was given none."""
    if is_async:
        transport = _with_backend(httpx.AsyncHTTPTransport(), _AsyncBackend)
        return _AsyncClient(timeout=timeout, transport=transport)
    transport = _with_backend(httpx.HTTPTransport(), _Backend)
    return _Client(timeout=timeout, transport=transport)
