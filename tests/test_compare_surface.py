"""The comparison's library surface as an integrator's code uses it: arguments of the wrong type
and page paths that would destroy the usage store."""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from auth_helpers import FakeKraken
from test_compare_answers import CREDENTIALS, DAY, PRODUCTS, script, store
from usage_helpers import ESI

from oeus_kraken import ConfigurationError, SyncKrakenClient
from oeus_kraken.compare import NightHours, compare_products, write_html
from oeus_kraken.usage import UsageStore

__all__ = ["store"]  # a fixture, used by name


@pytest.mark.parametrize("beside", ["", "-wal", "-shm", ".lock"])
def test_write_html_refuses_the_usage_store_and_its_files_and_keeps_them(
    fake_kraken: FakeKraken, store: UsageStore, beside: str
) -> None:
    """`compare --html` refuses these (README), but the library wrote the page over the store."""
    script(fake_kraken, PRODUCTS)
    with SyncKrakenClient(credentials=CREDENTIALS) as client:
        comparison = compare_products(client, store, ESI, DAY, DAY)
    target = Path(f"{store.path}{beside}")
    if not target.exists():
        target.write_bytes(b"kept")
    before = target.read_bytes()

    with pytest.raises(ConfigurationError, match="usage store"):
        write_html(comparison, target)

    assert target.read_bytes() == before
    # Still a database with its intervals (closing: sqlite3's own `with` only commits).
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        assert conn.execute("SELECT count(*) FROM intervals").fetchone()[0] == 96


@pytest.mark.parametrize("night", ["21:00-06:00", None, 9])
def test_night_hours_that_are_not_night_hours_are_a_configuration_error_before_any_request(
    fake_kraken: FakeKraken, store: UsageStore, night: Any
) -> None:
    """Before: AttributeError ('str' object has no attribute 'slots')."""
    with (
        SyncKrakenClient(credentials=CREDENTIALS) as client,
        pytest.raises(ConfigurationError, match=r"NightHours"),
    ):
        compare_products(client, store, ESI, DAY, DAY, night=night)
    assert fake_kraken.requests() == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: NightHours("21:00", "06:00"),  # type: ignore[arg-type]
        lambda: NightHours(21, 6),  # type: ignore[arg-type]
        lambda: NightHours(datetime.time(21), None),  # type: ignore[arg-type]
        lambda: NightHours(datetime.datetime(2026, 1, 1, 21), datetime.time(6)),  # type: ignore[arg-type]
        lambda: NightHours.parse(None),  # type: ignore[arg-type]
        lambda: NightHours.parse(2100),  # type: ignore[arg-type]
    ],
    ids=["text", "numbers", "none", "datetime", "parse-none", "parse-number"],
)
def test_night_hours_made_of_what_is_not_a_time_are_a_configuration_error(make: Any) -> None:
    """Before: AttributeError ('str' object has no attribute 'minute', or 'strip')."""
    with pytest.raises(ConfigurationError, match=r"NightHours|night hours"):
        make()
