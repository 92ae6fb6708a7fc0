"""The comparison's own failure: what the store and the API hold is not enough to compare."""

from __future__ import annotations

from .._errors import KrakenError

__all__ = ["ComparisonError"]


class ComparisonError(KrakenError):
    """Nothing to compare: the store has no usage for the ESI ID or the period, the API offers
    no product there, or the usage is in a unit that cannot be priced, holds a reading beyond
    any meter's (`MOST_KWH`) or readings that overlap. The message says what to do (sync the
    store, give other dates). The command line exits 1."""
