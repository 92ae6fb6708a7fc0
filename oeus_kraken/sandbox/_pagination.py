"""Relay connections over an in-memory list, the way graphene (and so Kraken) pages them.

Cursors are opaque base64 strings (graphql-relay's `arrayconnection:<index>`). A page holds at most
`MAX_PAGE_SIZE` edges, like graphene-django's default limit.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from ._errors import KrakenAPIError

__all__ = ["MAX_PAGE_SIZE", "connection", "cursor_for"]

MAX_PAGE_SIZE = 100
_PREFIX = "arrayconnection:"


def cursor_for(index: int) -> str:
    return base64.b64encode(f"{_PREFIX}{index}".encode()).decode("ascii")


def _index_of(cursor: str, argument: str) -> int:
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
        if not text.startswith(_PREFIX):
            raise ValueError(text)
        return int(text[len(_PREFIX) :])
    except (ValueError, UnicodeError, binascii.Error):
        raise KrakenAPIError(
            None,
            f"Invalid cursor for `{argument}`: {cursor!r}.",
            error_type="VALIDATION",
        ) from None


def _check_count(value: int | None, argument: str) -> None:
    if value is None:
        return
    if value < 0:
        raise KrakenAPIError(
            None, f"`{argument}` must be zero or more, got {value}.", error_type="VALIDATION"
        )
    if value > MAX_PAGE_SIZE:
        raise KrakenAPIError(
            None,
            f"Requesting {value} records exceeds the `{argument}` limit of {MAX_PAGE_SIZE} "
            "records.",
            error_type="VALIDATION",
        )


def connection(
    items: Sequence[Any],
    *,
    first: int | None = None,
    after: str | None = None,
    before: str | None = None,
    last: int | None = None,
) -> dict[str, Any]:
    """One page of `items` as a `...Connection` value: edges, pageInfo, totalCount, edgeCount.

    `hasNextPage` / `hasPreviousPage` say whether items exist after / before the page.
    """
    _check_count(first, "first")
    _check_count(last, "last")
    start, end = 0, len(items)
    if after is not None:
        start = max(start, _index_of(after, "after") + 1)
    if before is not None:
        end = min(end, _index_of(before, "before"))
    end = max(start, end)
    if first is None and last is None:
        first = MAX_PAGE_SIZE
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    edges = [{"cursor": cursor_for(i), "node": items[i]} for i in range(start, end)]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "totalCount": len(items),
        "edgeCount": len(edges),
    }
