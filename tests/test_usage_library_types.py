"""The usage library given values of the wrong kind: each is a ConfigurationError saying what
to give, raised before anything is asked or written; never a bare TypeError or AttributeError
from deep inside, a silently wrong answer, or a store said to be damaged."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from oeus_kraken import ConfigurationError, usage

DAY = date(2026, 3, 8)
LATE_EVENING = datetime(2026, 3, 9, 3, 0, tzinfo=timezone.utc)  # 2026-03-08 21:00 in Texas
START = datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        (usage.local_day_bounds, ("2026-03-08",)),
        (usage.local_day_bounds, (LATE_EVENING,)),  # before: the UTC date's bounds (2026-03-09)
        (usage.intervals_in_day, ("2026-03-08",)),
        (usage.intervals_in_day, (LATE_EVENING,)),
        (usage.local_days, ("2026-03-08", "2026-03-09")),
        (usage.local_days, (DAY, LATE_EVENING)),
        (usage.local_range_bounds, ("2026-03-08", DAY)),
        (usage.local_range_bounds, (DAY, LATE_EVENING)),
        (usage.to_local, (DAY,)),
        (usage.to_local, ("2026-03-08T00:00:00Z",)),
        (usage.local_date, (DAY,)),
        (usage.local_date, (1_772_952_000,)),
    ],
)
def test_time_helpers_given_text_a_datetime_for_a_date_or_a_date_for_an_instant_say_so(
    function: Any, arguments: tuple[Any, ...]
) -> None:
    with pytest.raises(ConfigurationError, match="give"):
        function(*arguments)
