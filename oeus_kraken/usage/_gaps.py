"""The gap backoff's bookkeeping as ranges of time, not rows per 15-minute slot.

A sync that asks for a span and gets nothing back (years before a meter existed, a meter the
API has no data for) must remember that, so that the next sync does not ask again at once. One
row per missing slot made a `--since 2000-01-01` sync write 908,744 rows; a range with the same
retry state is one row however long it is. These functions are the arithmetic on those ranges,
with no I/O: the store reads the ranges a change touches, and writes back what they return.

Times are UTC epoch seconds on the 15-minute grid; spans are [start, end).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

__all__ = ["Attempted", "Span", "attempt", "merged", "next_due", "spans_of", "subtract"]

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Attempted:
    """A run of missing slots asked for `attempts` times, last at `last_attempt`; due again at
    `next_due`."""

    start: int
    end: int
    attempts: int
    last_attempt: int
    next_due: int

    def same_state(self, other: Attempted) -> bool:
        return (self.attempts, self.last_attempt, self.next_due) == (
            other.attempts,
            other.last_attempt,
            other.next_due,
        )


def next_due(at: int, attempts_before: int, first: int, most: int) -> int:
    """When a span asked for at `at`, after `attempts_before` earlier attempts, is due again:
    `first` seconds after the first attempt, doubling after each one, at most `most`."""
    doublings = min(attempts_before, max(0, (most // first).bit_length()))
    return at + min(first << doublings, most)


def spans_of(starts_and_ends: Iterable[Span]) -> list[Span]:
    """Spans sorted and merged where they touch or overlap."""
    out: list[Span] = []
    for start, end in sorted(starts_and_ends):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    """`spans` (sorted, disjoint) without what `holes` (sorted, merged) cover."""
    out: list[Span] = []
    i = 0
    for start, end in spans:
        while i < len(holes) and holes[i][1] <= start:
            i += 1
        cursor, j = start, i
        while j < len(holes) and holes[j][0] < end:
            if holes[j][0] > cursor:
                out.append((cursor, holes[j][0]))
            cursor = max(cursor, holes[j][1])
            j += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def attempt(
    missing: list[Span], earlier: list[Attempted], at: int, first: int, most: int
) -> list[Attempted]:
    """The retry state of `missing` (sorted, disjoint) after one more attempt at `at`: each part
    counts the attempts of the range it was in (`earlier`, sorted, disjoint), plus one."""
    out: list[Attempted] = []
    for start, end in missing:
        cursor = start
        for old in earlier:
            if old.end <= cursor or old.start >= end:
                continue
            if old.start > cursor:
                out.append(_first_attempt(cursor, old.start, at, first, most))
            overlap_end = min(end, old.end)
            due = next_due(at, old.attempts, first, most)
            out.append(Attempted(max(cursor, old.start), overlap_end, old.attempts + 1, at, due))
            cursor = overlap_end
        if cursor < end:
            out.append(_first_attempt(cursor, end, at, first, most))
    return out


def _first_attempt(start: int, end: int, at: int, first: int, most: int) -> Attempted:
    return Attempted(start, end, 1, at, next_due(at, 0, first, most))


def merged(ranges: Iterable[Attempted]) -> list[Attempted]:
    """Sorted, with neighbours in the same retry state joined into one range."""
    out: list[Attempted] = []
    for item in sorted(ranges, key=lambda r: r.start):
        if out and out[-1].end == item.start and out[-1].same_state(item):
            out[-1] = replace(out[-1], end=item.end)
        else:
            out.append(item)
    return out
