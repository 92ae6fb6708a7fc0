"""A hostile HTTP server on 127.0.0.1 for the fault suite: it answers in whatever pieces and at
whatever pace a test scripts, down to the byte, which no mock transport can do.

    with HostileServer(answer) as server:       # answer(request) -> Iterable[(bytes, pause)]
        client = SyncKrakenClient(server.url, ...)

`answer` gets each request (method, path, headers, body) and yields pieces of the raw answer,
each sent after its pause in seconds. `trickle(...)` makes the classic slow-loris answer.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def operation(self) -> str | None:
        try:
            return str(self.json.get("operationName"))
        except ValueError:
            return None


Answer = Callable[[Request], Iterable[tuple[bytes, float]]]


def response_bytes(body: bytes, *, status: str = "200 OK", headers: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body


def at_once(body: bytes, **options: Any) -> Iterator[tuple[bytes, float]]:
    yield response_bytes(body, **options), 0.0


def trickle(
    body: bytes, *, every: float = 0.5, size: int = 1, headers_too: bool = False
) -> Iterator[tuple[bytes, float]]:
    """The answer `size` bytes at a time, one piece every `every` seconds (the headers at once,
    unless `headers_too`)."""
    raw = response_bytes(body)
    split = 0 if headers_too else raw.index(b"\r\n\r\n") + 4
    if split:
        yield raw[:split], 0.0
    for i in range(split, len(raw), size):
        yield raw[i : i + size], every


class HostileServer:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._port = self._listener.getsockname()[1]  # still known once the server is closed
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1/graphql/"

    def operations(self) -> list[str | None]:
        with self._lock:
            return [r.operation for r in self.requests]

    def __enter__(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(30)
            buffer = b""
            while not self._stopping.is_set():
                request, buffer = _read_request(connection, buffer)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                try:
                    for piece, pause in self.answer(request):
                        if pause:
                            time.sleep(pause)
                        if self._stopping.is_set():
                            return
                        connection.sendall(piece)
                except OSError:  # the client gave up on us: that is the point
                    return


def _read_request(connection: socket.socket, buffer: bytes) -> tuple[Request | None, bytes]:
    while b"\r\n\r\n" not in buffer:
        try:
            chunk = connection.recv(65536)
        except OSError:
            return None, b""
        if not chunk:
            return None, b""
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        try:
            chunk = connection.recv(65536)
        except OSError:
            return None, b""
        if not chunk:
            return None, b""
        rest += chunk
    return Request(method, path, headers, rest[:length]), rest[length:]
