"""Building blocks for the usage store tests: intervals of whole local days, a child process
running a snippet against a store (for the two-process and kill tests; `run_together` lets
several go at once), a disk that fills
up (`file_size_limit`), and a sandbox whose usage pages are rewritten (`rewritten_sandbox`)."""

from __future__ import annotations

import contextlib
import json
import resource
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from oeus_kraken import APIKey, Credentials, SyncKrakenClient
from oeus_kraken.usage import INTERVAL, Interval, local_day_bounds

ESI = "10443720000000001"
OTHER_ESI = "10443720000000002"
FETCHED = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def day_intervals(
    day: date,
    *,
    esi_id: str = ESI,
    value: Decimal = Decimal("0.25"),
    skip: frozenset[int] = frozenset(),
    **fields: object,
) -> list[Interval]:
    """Every 15-minute interval of a Texas local day (92, 96 or 100), but the indexes in `skip`."""
    start, end = local_day_bounds(day)
    count = (end - start) // INTERVAL
    return [
        Interval(esi_id, start + i * INTERVAL, start + (i + 1) * INTERVAL, value, **fields)
        for i in range(count)
        if i not in skip
    ]


def child(code: str, *args: str | Path) -> subprocess.Popen[str]:
    """Start `code` in a fresh interpreter with `args` as sys.argv[1:]; stdout is a pipe."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_together(writers: list[subprocess.Popen[str]], go: Path, timeout: float) -> list[str]:
    """Each child's output once all have said "ready" and been let go at once (by creating
    `go`), and each has exited 0. A failure leaves none running, nor its pipes open, into the
    next test's warnings."""
    with contextlib.ExitStack() as stack:
        for writer in writers:
            stack.enter_context(writer)
            stack.callback(writer.kill)
        for writer in writers:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "ready", writer.communicate()[1]
        go.touch()
        outputs = []
        for writer in writers:
            out, err = writer.communicate(timeout=timeout)
            assert writer.returncode == 0, err
            outputs.append(out)
    return outputs


@contextlib.contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Files this process writes may grow to `size` bytes only, as on a disk that fills up
    (a write past it fails with EFBIG: Python ignores SIGXFSZ)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


# -- a sandbox whose usage answers are rewritten: the API misbehaving ------------------------------

Edges = list[dict[str, Any]]


class MeasurementsRewritten(httpx.BaseTransport):
    """Passes every request on to the sandbox, then hands each getPropertyMeasurements answer's
    edges to `rewrite` and answers with what it returns (duplicated, reordered, misdated...).

    With `cursors`, every page says a next page follows, at `cursors(after)` (the cursor the
    request asked after): the sandbox, which knows its own cursors only, is asked for the first
    page each time. `measurement_requests` counts the pages asked for."""

    def __init__(
        self,
        rewrite: Callable[[Edges], Edges],
        cursors: Callable[[str | None], str] | None = None,
    ) -> None:
        self.inner = httpx.HTTPTransport()
        self.rewrite = rewrite
        self.cursors = cursors
        self.measurement_requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read())
        if body.get("operationName") != "getPropertyMeasurements":
            response = self.inner.handle_request(request)
            return httpx.Response(
                response.status_code, headers=response.headers, content=response.read()
            )
        self.measurement_requests += 1
        after = body["variables"].pop("after", None)
        if self.cursors is not None:  # the sandbox's first page, whatever was asked
            headers = {k: v for k, v in request.headers.items() if k != "content-length"}
            request = httpx.Request("POST", request.url, headers=headers, json=body)
        answer = json.loads(self.inner.handle_request(request).read())
        if answer.get("errors"):  # the sandbox's own refusal (its points budget spent...)
            return httpx.Response(200, json=answer)
        page = answer["data"]["property"]["measurements"]
        page["edges"] = self.rewrite(page["edges"])
        if self.cursors is not None:
            page["pageInfo"] = {"hasNextPage": True, "endCursor": self.cursors(after)}
        return httpx.Response(200, json=answer)

    def close(self) -> None:
        self.inner.close()


@contextlib.contextmanager
def rewritten_sandbox(
    url: str,
    rewrite: Callable[[Edges], Edges] | MeasurementsRewritten,
    credentials: Credentials | None = None,
) -> Iterator[SyncKrakenClient]:
    """A client of the sandbox at `url` (the demo API key, unless `credentials`) seeing its
    usage pages rewritten: by `rewrite`, or through a `MeasurementsRewritten` given (to count
    its requests)."""
    from oeus_kraken.sandbox import DEMO_API_KEY  # an optional extra: only these tests need it

    if not isinstance(rewrite, MeasurementsRewritten):
        rewrite = MeasurementsRewritten(rewrite)
    with (
        httpx.Client(transport=rewrite) as http,
        SyncKrakenClient(
            url, credentials=credentials or APIKey(DEMO_API_KEY), http_client=http
        ) as kraken,
    ):
        yield kraken


class AccountRewritten(httpx.BaseTransport):
    """Passes every request on to the sandbox, and answers getAccount with `old` replaced by
    `new` in its text: an account lookup that names an ESI ID the sandbox does not."""

    def __init__(self, old: str, new: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.old, self.new = json.dumps(old).encode(), json.dumps(new).encode()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        operation = json.loads(request.read()).get("operationName")
        response = self.inner.handle_request(request)
        content = response.read()
        if operation == "getAccount":
            content = content.replace(self.old, self.new)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, content=content)

    def close(self) -> None:
        self.inner.close()
