"""`paginate` and `apaginate` against a hostile server: whatever cursors it sends, a walk ends,
and no page is read twice.

The pages here are plain objects shaped like the generated connection models (`pageInfo` +
`edges`), so each test states exactly what the server answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from oeus_kraken import ConfigurationError, InvalidResponseError, apaginate, paginate


@dataclass
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@dataclass
class Edge:
    node: int


@dataclass
class Page:
    page_info: PageInfo
    edges: list[Edge]


def server(cursors: list[str | None], *, last_has_next: bool = True) -> Callable[..., Page]:
    """A server whose page i carries node i and hands out `cursors[i]` as the next cursor; it
    says there is a next page on every page (also the last, unless `last_has_next` is False)."""
    asked: list[str | None] = []

    def fetch(first: int, after: str | None) -> Page:
        asked.append(after)
        i = len(asked) - 1
        more = i < len(cursors) - 1 or last_has_next
        return Page(PageInfo(more, cursors[min(i, len(cursors) - 1)]), [Edge(i)])

    fetch.asked = asked  # type: ignore[attr-defined]
    return fetch


@pytest.mark.parametrize("max_pages", [None, 1000])
def test_a_cursor_the_server_gave_before_stops_the_walk_instead_of_reading_pages_again(
    max_pages: int | None,
) -> None:
    # A, B, A, B, ...: never the same cursor twice in a row, yet a loop.
    fetch = server(["A", "B"] * 3000)
    nodes: list[int] = []
    with pytest.raises(InvalidResponseError, match=r"cursor 'A'.*again"):
        nodes.extend(paginate(fetch, max_pages=max_pages))
    assert nodes == [0, 1]  # each page once, then the error
    assert fetch.asked == [None, "A", "B"]  # type: ignore[attr-defined]


async def test_the_async_walk_stops_at_a_repeated_cursor_too() -> None:
    fetch = server(["A", "B", "C", "B"] * 1000)

    async def afetch(first: int, after: str | None) -> Page:
        return fetch(first, after)

    nodes: list[int] = []

    async def walk() -> None:
        async for node in apaginate(afetch, max_pages=None):
            nodes.append(node)

    with pytest.raises(InvalidResponseError, match=r"cursor 'B'.*again"):
        await walk()
    assert nodes == [0, 1, 2]


def test_the_same_cursor_twice_in_a_row_stops_the_walk_after_one_page_each() -> None:
    fetch = server(["A", "A", "A"])
    nodes: list[int] = []
    with pytest.raises(InvalidResponseError, match=r"cursor 'A'.*again"):
        nodes.extend(paginate(fetch, max_pages=10))  # (a cap: a broken check fails, not hangs)
    assert nodes == [0]
    assert fetch.asked == [None, "A"]  # type: ignore[attr-defined]


def test_a_next_page_with_no_cursor_is_an_error_not_the_first_page_again() -> None:
    fetch = server(["A", None])
    with pytest.raises(InvalidResponseError, match="no new cursor"):
        list(paginate(fetch, max_pages=None))
    assert fetch.asked == [None, "A"]  # type: ignore[attr-defined]


def test_empty_pages_with_new_cursors_are_walked_to_the_end() -> None:
    pages = [Page(PageInfo(True, "A"), []), Page(PageInfo(True, "B"), []),
             Page(PageInfo(False, None), [Edge(7)])]  # fmt: skip
    assert list(paginate(lambda first, after: pages.pop(0))) == [7]


@pytest.mark.parametrize("options", [{"max_pages": True}, {"max_pages": 0}, {"page_size": True}])
def test_a_page_size_or_page_cap_that_is_no_count_is_refused_before_any_page(
    options: dict[str, object],
) -> None:
    fetch = server(["A", None], last_has_next=False)
    with pytest.raises(ConfigurationError, match="must be a positive integer"):
        list(paginate(fetch, **options))  # type: ignore[arg-type]
    assert fetch.asked == []  # type: ignore[attr-defined]


def test_a_walk_the_page_cap_cuts_short_says_so_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Stopping at max_pages is the cap's job, but silently it looked like the whole connection:
    # a user summing transactions got a partial total with nothing to tell them.
    fetch = server(["A", "B", "C"], last_has_next=True)
    with caplog.at_level(logging.WARNING, logger="oeus_kraken"):
        assert list(paginate(fetch, max_pages=2)) == [0, 1]
    assert [r.getMessage() for r in caplog.records] == [
        "pagination stopped at max_pages=2 (2 pages) though the API has more; "
        "raise max_pages, or pass None for no cap"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="oeus_kraken"):
        complete = server(["A", "B"], last_has_next=False)
        assert list(paginate(complete, max_pages=2)) == [0, 1]  # the whole of it: no warning
    assert caplog.records == []
