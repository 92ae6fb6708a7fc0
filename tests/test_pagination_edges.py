"""`paginate` / `apaginate` past the happy path, from outside: a page that fails midway, a caller
that stops early or is cancelled, a walk of very many pages, and a server's absurd cursor in the
error that stops a loop.

(A repeated cursor and a next page without one are in test_pagination.py.)
"""

from __future__ import annotations

import asyncio

import pytest
from test_pagination import Edge, Page, PageInfo  # the pages test_pagination's server sends

from oeus_kraken import (
    APIConnectionError,
    ConfigurationError,
    InvalidResponseError,
    apaginate,
    paginate,
)


def test_a_page_that_fails_midway_raises_its_own_error_after_the_earlier_pages_nodes() -> None:
    asked: list[str | None] = []

    def fetch(first: int, after: str | None) -> Page:
        asked.append(after)
        if len(asked) == 3:
            raise APIConnectionError("page 3 of 5 got no answer")
        return Page(PageInfo(len(asked) < 5, f"c{len(asked)}"), [Edge(len(asked))])

    nodes: list[int] = []
    with pytest.raises(APIConnectionError, match="page 3 of 5"):
        nodes.extend(paginate(fetch))
    assert nodes == [1, 2]
    assert asked == [None, "c1", "c2"]  # no page after the failed one


def test_a_caller_that_stops_early_causes_no_further_page_request() -> None:
    asked: list[str | None] = []

    def fetch(first: int, after: str | None) -> Page:
        asked.append(after)
        return Page(PageInfo(True, f"c{len(asked)}"), [Edge(1), Edge(2)])

    walk = paginate(fetch)
    assert next(walk) == 1
    walk.close()
    assert asked == [None]


async def test_a_walk_cancelled_while_a_page_is_under_way_ends_with_the_cancellation() -> None:
    fetching = asyncio.Event()
    asked: list[str | None] = []

    async def fetch(first: int, after: str | None) -> Page:
        asked.append(after)
        if after is not None:
            fetching.set()
            await asyncio.sleep(3600)
        return Page(PageInfo(True, "c1"), [Edge(1)])

    nodes: list[int] = []

    async def walk() -> None:
        async for node in apaginate(fetch):
            nodes.append(node)

    task = asyncio.create_task(walk())
    await fetching.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (nodes, asked) == ([1], [None, "c1"])


def test_a_walk_of_200000_pages_without_a_cap_reads_each_once() -> None:
    def fetch(first: int, after: str | None) -> Page:
        page = int(after or 0) + 1
        return Page(PageInfo(page < 200_000, str(page)), [Edge(page)])

    nodes = list(paginate(fetch, page_size=1, max_pages=None))
    assert len(nodes) == 200_000
    assert nodes[-1] == 200_000


@pytest.mark.parametrize("walk", ["sync", "async"])
async def test_an_absurd_cursor_given_again_is_named_shortened_in_the_error(walk: str) -> None:
    # Before: the whole cursor went into the message, a megabyte of it into every log line.
    cursor = "Y3Vyc29y" * 125_000

    def page() -> Page:
        return Page(PageInfo(True, cursor), [Edge(1)])

    async def afetch(first: int, after: str | None) -> Page:
        return page()

    async def walk_to_the_end() -> None:
        if walk == "sync":
            list(paginate(lambda first, after: page()))
        else:
            [node async for node in apaginate(afetch)]

    with pytest.raises(InvalidResponseError, match="again") as raised:
        await walk_to_the_end()
    assert len(str(raised.value)) < 300
    assert "Y3Vyc29y" in str(raised.value)


def test_paginate_given_an_async_fetch_says_to_use_apaginate() -> None:
    # Before: AttributeError: 'coroutine' object has no attribute 'page_info', and a warning
    # that the coroutine was never awaited.
    async def afetch(first: int, after: str | None) -> Page:
        return Page(PageInfo(False, None), [Edge(1)])

    with pytest.raises(ConfigurationError, match="apaginate"):
        list(paginate(afetch))  # type: ignore[arg-type]


async def test_apaginate_given_a_blocking_fetch_says_to_use_paginate() -> None:
    # Before: TypeError: object Page can't be used in 'await' expression.
    def fetch(first: int, after: str | None) -> Page:
        return Page(PageInfo(False, None), [Edge(1)])

    with pytest.raises(ConfigurationError, match="paginate"):
        [node async for node in apaginate(fetch)]  # type: ignore[arg-type,var-annotated]


@pytest.mark.parametrize("page", [{"edges": []}, [], "page"], ids=repr)
def test_a_fetch_that_gives_no_connection_is_told_what_to_give(page: object) -> None:
    # Before: AttributeError: 'dict' object has no attribute 'page_info'.
    with pytest.raises(ConfigurationError, match="page_info and edges"):
        list(paginate(lambda first, after: page))  # type: ignore[arg-type,return-value]
