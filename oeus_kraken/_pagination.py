"""Walking a Relay connection page by page: `paginate` (sync) and `apaginate` (async).

You say how to fetch one page; the helper asks for pages until `pageInfo.hasNextPage` is false,
yielding every node:

    for tx in paginate(
        lambda first, after: client.get_account_ledgers(
            number, first=first, after=after
        ).account.ledgers[0].transactions,
        page_size=50,
    ):
        print(tx.posted_date, tx.title)

The walk is written once, as a flow of effects (`_pages`: fetch this page, emit that node); the
two functions carry it out with the one stepper (`_steps`), blocking or awaiting.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from ._errors import ConfigurationError, InvalidResponseError
from ._steps import Emit, iterate_async, iterate_sync

__all__ = ["Connection", "apaginate", "paginate"]

Node = TypeVar("Node")
NodeT_co = TypeVar("NodeT_co", covariant=True)

DEFAULT_PAGE_SIZE = 50
DEFAULT_MAX_PAGES = 1000

logger = logging.getLogger("oeus_kraken")


class PageInfo(Protocol):
    @property
    def has_next_page(self) -> bool: ...

    @property
    def end_cursor(self) -> str | None: ...


class Edge(Protocol[NodeT_co]):
    @property
    def node(self) -> NodeT_co | None: ...


class Connection(Protocol[NodeT_co]):
    """What the generated models of a Relay connection look like (`pageInfo` + `edges`)."""

    @property
    def page_info(self) -> PageInfo: ...

    @property
    def edges(self) -> Sequence[Edge[NodeT_co] | None]: ...


class Pager(Generic[Node]):
    """Decides which page to ask for next and what a page contributes."""

    def __init__(self, page_size: int, max_pages: int | None) -> None:
        if not _positive_integer(page_size):
            raise ConfigurationError(f"page_size must be a positive integer, got {page_size!r}")
        if max_pages is not None and not _positive_integer(max_pages):
            raise ConfigurationError(f"max_pages must be a positive integer, got {max_pages!r}")
        self.page_size = page_size
        self.max_pages = max_pages
        self.pages = 0
        self.after: str | None = None
        self.done = False
        # Every cursor followed so far: a server that hands one out again (A, B, A, ...) would
        # otherwise have us read the same pages until the cap, or forever without one.
        self.seen: set[str] = set()

    def wants_more(self) -> bool:
        return not self.done and (self.max_pages is None or self.pages < self.max_pages)

    def receive(self, connection: Connection[Node] | None) -> list[Node]:
        """The nodes of one page; afterwards `wants_more` says whether to fetch another."""
        self.pages += 1
        if connection is None:
            self.done = True
            return []
        if not (hasattr(connection, "page_info") and hasattr(connection, "edges")):
            # A user's mistake, said as one: it was an AttributeError on 'page_info'.
            raise ConfigurationError(_not_a_page(connection))
        info = connection.page_info
        if info.has_next_page and not info.end_cursor:
            # A server bug would otherwise make us fetch the first page again, forever.
            raise InvalidResponseError(
                "pagination: the API said there is a next page but gave no new cursor "
                f"(page {self.pages}, cursor {info.end_cursor!r})"
            )
        if info.has_next_page and info.end_cursor in self.seen:  # the last one included
            raise InvalidResponseError(
                f"pagination: the API gave cursor {_shown(info.end_cursor)} again "
                f"(page {self.pages}); stopping rather than reading its pages again"
            )
        self.after = info.end_cursor
        if info.end_cursor:
            self.seen.add(info.end_cursor)
        self.done = not info.has_next_page
        return [
            edge.node for edge in connection.edges if edge is not None and edge.node is not None
        ]


class _Fetch(NamedTuple):
    """Fetch the page of `first` nodes after `after`."""

    first: int
    after: str | None


def _shown(cursor: str | None) -> str:
    """A cursor as an error names it: its start, when long. A server's cursor is opaque and can
    be any length; a megabyte of it went into the message (and every log line quoting it)."""
    if cursor is None or len(cursor) <= 60:
        return repr(cursor)
    return repr(f"{cursor[:40]}... ({len(cursor)} characters)")


def _not_a_page(page: object) -> str:
    if inspect.isawaitable(page):
        if inspect.iscoroutine(page):
            page.close()  # (never to be awaited: no "was never awaited" warning)
        return "paginate's fetch_page gave an awaitable: for an async fetch_page, use apaginate"
    return (
        "fetch_page must return one page of a Relay connection (a model with page_info and "
        f"edges, as the generated ones are) or None; got {type(page).__name__}"
    )


def _positive_integer(value: object) -> bool:
    """An int of 1 or more; not a bool (True is an int of 1 to Python, not a count to a user)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _pages(page_size: int, max_pages: int | None) -> Generator[_Fetch | Emit, Any, None]:
    pager: Pager[Any] = Pager(page_size, max_pages)
    while pager.wants_more():
        for node in pager.receive((yield _Fetch(pager.page_size, pager.after))):
            yield Emit(node)
    if not pager.done:
        # The cap stopped a connection that has more: said, or a partial walk (a sum of
        # transactions, say) would pass for the whole of it.
        logger.warning(
            "pagination stopped at max_pages=%s (%s pages) though the API has more; "
            "raise max_pages, or pass None for no cap",
            max_pages,
            pager.pages,
        )


def paginate(
    fetch_page: Callable[[int, str | None], Connection[Node] | None],
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_pages: int | None = DEFAULT_MAX_PAGES,
) -> Iterator[Node]:
    """Yield every node of a connection. `fetch_page(first, after)` returns one page (or None
    when the parent object is missing); at most `max_pages` pages are fetched (None: no cap),
    and a walk the cap cuts short logs a warning."""
    for emitted in iterate_sync(_pages(page_size, max_pages), lambda fetch: fetch_page(*fetch)):
        yield emitted.item


async def apaginate(
    fetch_page: Callable[[int, str | None], Awaitable[Connection[Node] | None]],
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_pages: int | None = DEFAULT_MAX_PAGES,
) -> AsyncIterator[Node]:
    """The async twin of `paginate`: `fetch_page(first, after)` is awaited for each page."""

    async def fetch(page: _Fetch) -> Connection[Node] | None:
        fetched = fetch_page(*page)
        if not inspect.isawaitable(fetched):  # (it was "can't be used in 'await' expression")
            raise ConfigurationError(
                "apaginate's fetch_page must be an async function (or give an awaitable); "
                "for a blocking one, use paginate"
            )
        return await fetched

    async for emitted in iterate_async(_pages(page_size, max_pages), fetch):
        yield emitted.item
