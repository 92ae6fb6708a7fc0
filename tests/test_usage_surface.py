"""The usage store's library surface as an integrator uses it: arguments of the wrong type."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from usage_helpers import ESI, FETCHED, day_intervals

from oeus_kraken import ConfigurationError
from oeus_kraken.usage import UsageStore, chart

DAY = date(2026, 7, 14)


@pytest.mark.parametrize(
    ("path", "busy_timeout", "message"),
    [
        (5, 30.0, "file path"),  # a bare TypeError from Path(), before
        (b"usage.sqlite3", 30.0, "file path"),
        ("usage.sqlite3", "30", "busy_timeout"),  # a bare TypeError from sqlite3, before
        ("usage.sqlite3", -1, "busy_timeout"),  # accepted, before
        ("usage.sqlite3", True, "busy_timeout"),
        ("usage.sqlite3", float("nan"), "busy_timeout"),
    ],
)
def test_a_store_path_or_busy_timeout_of_the_wrong_kind_is_a_configuration_error_making_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: Any, busy_timeout: Any, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=message):
        UsageStore(path, busy_timeout=busy_timeout)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out", [None, 5, b"day.csv", ["day.csv"]], ids=repr)
def test_an_export_out_that_is_neither_a_path_nor_a_stream_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: Any
) -> None:
    # Before: AttributeError: 'NoneType' object has no attribute 'readable' (the store took
    # anything that was not a path for a binary stream).
    monkeypatch.chdir(tmp_path)
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        store.link("A-1234ABCD", ESI)
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
        with pytest.raises(ConfigurationError, match="out must be a file path"):
            store.export(ESI, DAY, DAY, out=out)
    assert [p.name for p in tmp_path.iterdir()] == ["usage.sqlite3"]  # nothing written


@pytest.mark.parametrize("out_png", [None, 5, b"day.png"], ids=repr)
def test_a_chart_out_that_is_not_a_path_is_a_configuration_error(
    tmp_path: Path, out_png: Any
) -> None:
    # Before: TypeError: expected str, bytes or os.PathLike object, not int (from Path()).
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
        with pytest.raises(ConfigurationError, match="out_png must be a file path"):
            chart(store, ESI, DAY, DAY, out_png)
