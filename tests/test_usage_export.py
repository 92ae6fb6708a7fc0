"""Export (CSV, JSON, Parquet) and chart: read only the store, count Texas days right, and say
which extra to install when one is missing."""

from __future__ import annotations

import contextlib
import csv
import errno
import gc
import io
import json
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from usage_helpers import ESI, FETCHED, OTHER_ESI, day_intervals

from oeus_kraken import ConfigurationError
from oeus_kraken.usage import (
    AGGREGATE_COLUMNS,
    INTERVAL,
    INTERVAL_COLUMNS,
    Interval,
    MissingExtraError,
    UsageStore,
    UsageStoreError,
    chart,
    local_day_bounds,
)

SPRING = date(2026, 3, 8)  # 23 hours
FALL = date(2026, 11, 1)  # 25 hours
ORDINARY = date(2026, 7, 14)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UsageStore]:
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        yield store


def export_csv(store: UsageStore, target: str, first: date, last: date, **options) -> list[dict]:
    out = io.BytesIO()
    store.export(target, first, last, format="csv", out=out, **options)
    return list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8"))))


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_is_a_header_then_one_line_per_interval(store: UsageStore, tmp_path: Path) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    store.upsert(day_intervals(ORDINARY + timedelta(days=1)), fetched_at=FETCHED)  # not asked
    out = tmp_path / "day.csv"
    written = store.export(ESI, ORDINARY, ORDINARY, out=out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert written == 96
    assert lines[0] == ",".join(INTERVAL_COLUMNS)
    assert len(lines) == 1 + 96
    assert lines[1] == (
        f"{ESI},2026-07-14T00:00:00-05:00,2026-07-14T00:15:00-05:00,"
        "2026-07-14T05:00:00Z,2026-07-14T05:15:00Z,0.25,,,,0"
    )


def test_csv_carries_cost_source_read_at_and_revisions(store: UsageStore) -> None:
    start, _ = local_day_bounds(ORDINARY)
    read_at = datetime(2026, 7, 15, 8, tzinfo=timezone.utc)
    given = Interval(
        ESI,
        start,
        start + INTERVAL,
        Decimal("0.5"),
        cost=Decimal("2.25"),
        source="SMT",
        read_at=read_at,
    )
    store.upsert([given], fetched_at=FETCHED)
    store.upsert(
        [
            Interval(
                ESI,
                start,
                start + INTERVAL,
                Decimal("0.625"),
                cost=Decimal("2.5"),
                source="SMT",
                read_at=read_at,
            )
        ],
        fetched_at=FETCHED,
    )
    [row] = export_csv(store, ESI, ORDINARY, ORDINARY)
    assert row["kwh"] == "0.625"
    assert row["cost_cents"] == "2.5"
    assert row["source"] == "SMT"
    assert row["read_at_utc"] == "2026-07-15T08:00:00Z"
    assert row["revisions"] == "1"


@pytest.mark.parametrize(
    ("day", "intervals", "hours"), [(SPRING, 92, 23), (FALL, 100, 25), (ORDINARY, 96, 24)]
)
def test_dst_days_have_their_intervals_hours_and_correct_day_totals(
    store: UsageStore, day: date, intervals: int, hours: int
) -> None:
    for neighbour in (day - timedelta(days=1), day, day + timedelta(days=1)):
        store.upsert(day_intervals(neighbour, value=Decimal("0.25")), fetched_at=FETCHED)

    assert len(export_csv(store, ESI, day, day)) == intervals
    assert len(export_csv(store, ESI, day, day, interval="hour")) == hours
    [total] = export_csv(store, ESI, day, day, interval="day")
    assert total["kwh"] == str(hours)  # 0.25 kWh an interval: 23, 24 or 25 kWh
    assert total["intervals"] == total["expected_intervals"] == str(intervals)
    start, end = local_day_bounds(day)
    assert total["start_utc"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert total["end_utc"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert total["start_local"].startswith(f"{day.isoformat()}T00:00:00")


def test_the_repeated_hour_of_the_fall_back_day_is_two_hours_told_apart_by_offset(
    store: UsageStore,
) -> None:
    store.upsert(day_intervals(FALL), fetched_at=FETCHED)
    starts = [row["start_local"] for row in export_csv(store, ESI, FALL, FALL, interval="hour")]
    assert starts[1:3] == ["2026-11-01T01:00:00-05:00", "2026-11-01T01:00:00-06:00"]
    assert len(set(starts)) == 25


def test_a_bucket_with_a_gap_shows_how_many_intervals_it_has_of_how_many(
    store: UsageStore,
) -> None:
    store.upsert(day_intervals(ORDINARY, skip=frozenset({5})), fetched_at=FETCHED)
    hours = export_csv(store, ESI, ORDINARY, ORDINARY, interval="hour")
    assert [(h["intervals"], h["expected_intervals"]) for h in hours[:2]] == [
        ("4", "4"),
        ("3", "4"),
    ]
    assert hours[1]["kwh"] == "0.75"
    [day] = export_csv(store, ESI, ORDINARY, ORDINARY, interval="day")
    assert (day["intervals"], day["expected_intervals"]) == ("95", "96")


def test_a_bucket_has_a_cost_only_when_every_interval_in_it_has_one(store: UsageStore) -> None:
    priced = day_intervals(ORDINARY, cost=Decimal("1.5"))
    store.upsert(priced[:4] + day_intervals(ORDINARY)[4:], fetched_at=FETCHED)
    hours = export_csv(store, ESI, ORDINARY, ORDINARY, interval="hour")
    assert hours[0]["cost_cents"] == "6"
    assert hours[1]["cost_cents"] == ""
    [day] = export_csv(store, ESI, ORDINARY, ORDINARY, interval="day")
    assert day["cost_cents"] == ""


def test_dates_are_inclusive_and_a_day_without_data_is_a_row_of_none(store: UsageStore) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    store.upsert(day_intervals(ORDINARY + timedelta(days=2)), fetched_at=FETCHED)
    days = export_csv(store, ESI, ORDINARY, ORDINARY + timedelta(days=2), interval="day")
    assert [d["start_local"][:10] for d in days] == ["2026-07-14", "2026-07-15", "2026-07-16"]
    assert [(d["kwh"], d["intervals"], d["complete"]) for d in days] == [
        ("24", "96", "true"),
        ("", "0", "false"),
        ("24", "96", "true"),
    ]


def test_an_account_exports_all_its_esi_ids_in_order(store: UsageStore) -> None:
    store.link("A-0001", OTHER_ESI)
    store.link("A-0001", ESI)
    store.upsert(day_intervals(ORDINARY, esi_id=OTHER_ESI), fetched_at=FETCHED)
    store.upsert(day_intervals(ORDINARY, esi_id=ESI), fetched_at=FETCHED)
    days = export_csv(store, "A-0001", ORDINARY, ORDINARY, interval="day")
    assert [d["esi_id"] for d in days] == [ESI, OTHER_ESI]
    assert [
        d["esi_id"] for d in export_csv(store, OTHER_ESI, ORDINARY, ORDINARY, interval="day")
    ] == [OTHER_ESI]


def test_exporting_to_a_stream_leaves_it_open(store: UsageStore) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    out = io.BytesIO()
    store.export(ESI, ORDINARY, ORDINARY, interval="day", out=out)
    out.write(b"still open")
    assert out.getvalue().endswith(b"still open")


def test_exporting_to_a_stream_that_cannot_be_written_leaves_it_open(store: UsageStore) -> None:
    # A buffered stream on a full disk (/dev/full) fails when it is flushed, after the rows went
    # into its buffer: the caller's stream (the CLI's sys.stdout.buffer) must not be closed by
    # the export's text layer going away, or the caller's own flush is a ValueError traceback.
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    full = open("/dev/full", "wb")  # noqa: SIM115 (closed below, where its flush fails too)
    try:
        try:  # not pytest.raises: its traceback would keep the export's text layer alive
            store.export(ESI, ORDINARY, ORDINARY, out=full)
        except OSError as error:
            failed = error.errno
        gc.collect()  # the text layer, if it still held the stream, closes it when collected
        assert failed == errno.ENOSPC
        assert not full.closed
    finally:
        with contextlib.suppress(OSError):
            full.close()


def test_an_unknown_account_or_esi_id_says_to_sync_it_first(store: UsageStore) -> None:
    with pytest.raises(UsageStoreError, match=r"no account or ESI ID 'A-404'.*usage sync"):
        store.export("A-404", ORDINARY, ORDINARY, out=io.BytesIO())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"interval": "5m"}, "interval must be one of 15m, hour, day"),
        ({"format": "xlsx"}, "format must be one of csv, json, parquet"),
    ],
)
def test_an_unknown_interval_or_format_is_refused(
    store: UsageStore, options: dict, message: str
) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    with pytest.raises(ConfigurationError, match=message):
        store.export(ESI, ORDINARY, ORDINARY, out=io.BytesIO(), **options)


def test_dates_out_of_order_are_refused(store: UsageStore) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    with pytest.raises(ConfigurationError, match="ends"):
        store.export(ESI, ORDINARY, ORDINARY - timedelta(days=1), out=io.BytesIO())


@pytest.mark.parametrize(
    ("from_date", "to_date"),
    [
        (datetime(2026, 7, 14, tzinfo=timezone.utc), date(2026, 7, 15)),
        (date(2026, 7, 14), datetime(2026, 7, 15)),
        (datetime(2026, 7, 14), datetime(2026, 7, 15)),
    ],
    ids=["aware-from", "naive-to", "both"],
)
def test_datetimes_in_place_of_texas_dates_are_refused_as_a_configuration_error(
    store: UsageStore, from_date: date, to_date: date
) -> None:
    # A datetime is a date to isinstance: it used to reach a comparison with today's date and
    # raise a bare TypeError ("can't compare datetime.datetime to datetime.date").
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    with pytest.raises(ConfigurationError, match=r"dates .*not datetimes"):
        store.export(ESI, from_date, to_date, out=io.BytesIO())


def test_text_in_place_of_texas_dates_is_refused_saying_dates_are_wanted_not_text(
    store: UsageStore,
) -> None:
    # export(ESI, "2026-07-14", ...) said "must be dates (Texas local), not datetimes: got
    # '2026-07-14'": a datetime was not what it was given.
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    with pytest.raises(ConfigurationError, match=r"\(datetime\.date\), not datetimes or text"):
        store.export(ESI, "2026-07-14", ORDINARY, out=io.BytesIO())  # type: ignore[arg-type]


def test_a_failed_export_leaves_no_partial_file(store: UsageStore, tmp_path: Path) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    store.upsert(day_intervals(ORDINARY + timedelta(days=1), unit="MWh"), fetched_at=FETCHED)
    out = tmp_path / "two-days.csv"
    with pytest.raises(UsageStoreError, match="'MWh', not kWh"):
        store.export(ESI, ORDINARY, ORDINARY + timedelta(days=1), out=out)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".two-days")]


# --- JSON ---------------------------------------------------------------------------------------


def test_json_is_a_list_of_objects_with_the_api_numbers_as_strings(store: UsageStore) -> None:
    values = [Decimal("0.1"), Decimal("0.2"), Decimal("0.123456789")]
    start, _ = local_day_bounds(ORDINARY)
    store.upsert(
        [
            Interval(ESI, start + i * INTERVAL, start + (i + 1) * INTERVAL, v)
            for i, v in enumerate(values)
        ],
        fetched_at=FETCHED,
    )
    out = io.BytesIO()
    assert store.export(ESI, ORDINARY, ORDINARY, format="json", out=out) == 3
    rows = json.loads(out.getvalue())
    assert [list(row) for row in rows] == [list(INTERVAL_COLUMNS)] * 3
    assert [Decimal(row["kwh"]) for row in rows] == values
    assert rows[0]["cost_cents"] is None
    assert rows[0]["revisions"] == 0

    out = io.BytesIO()
    store.export(ESI, ORDINARY, ORDINARY, format="json", interval="day", out=out)
    [day] = json.loads(out.getvalue())
    assert list(day) == list(AGGREGATE_COLUMNS)
    assert day["kwh"] == "0.423456789"  # exact: 0.1 + 0.2 is not 0.30000000000000004 here
    assert day["intervals"] == 3


def test_json_of_nothing_is_an_empty_list(store: UsageStore) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    out = io.BytesIO()
    assert store.export(ESI, date(2025, 1, 1), date(2025, 1, 2), format="json", out=out) == 0
    assert json.loads(out.getvalue()) == []


# --- Parquet ------------------------------------------------------------------------------------


def test_parquet_is_a_dataset_of_one_file_per_esi_id_and_date_that_reads_back_exactly(
    store: UsageStore, tmp_path: Path
) -> None:
    import pyarrow.dataset

    store.link("A-0001", ESI)
    store.link("A-0001", OTHER_ESI)
    store.upsert(day_intervals(FALL, value=Decimal("0.125")), fetched_at=FETCHED)
    store.upsert(day_intervals(FALL + timedelta(days=1)), fetched_at=FETCHED)
    store.upsert(day_intervals(FALL, esi_id=OTHER_ESI, cost=Decimal("3.3")), fetched_at=FETCHED)
    out = tmp_path / "dataset"
    written = store.export("A-0001", FALL, FALL + timedelta(days=1), format="parquet", out=out)
    assert written == 100 + 96 + 100

    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert files == [
        f"date=2026-11-01/{ESI}.parquet",
        f"date=2026-11-01/{OTHER_ESI}.parquet",
        f"date=2026-11-02/{ESI}.parquet",
    ]
    table = pyarrow.dataset.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == written
    rows = table.to_pylist()
    fall = [r for r in rows if r["esi_id"] == ESI and str(r["date"]) == "2026-11-01"]
    assert len(fall) == 100
    assert sum(r["kwh"] for r in fall) == Decimal("12.5")
    other = [r for r in rows if r["esi_id"] == OTHER_ESI]
    assert {r["cost_cents"] for r in other} == {Decimal("3.3")}
    assert fall[0]["start_utc"] == datetime(2026, 11, 1, 5, tzinfo=timezone.utc)


def test_parquet_days_aggregate_into_the_same_layout(store: UsageStore, tmp_path: Path) -> None:
    import pyarrow.parquet

    store.upsert(day_intervals(SPRING), fetched_at=FETCHED)
    out = tmp_path / "days"
    assert store.export(ESI, SPRING, SPRING, format="parquet", interval="day", out=out) == 1
    table = pyarrow.parquet.read_table(out / "date=2026-03-08" / f"{ESI}.parquet")
    [day] = table.to_pylist()
    assert (day["kwh"], day["intervals"], day["expected_intervals"]) == (Decimal(23), 92, 92)
    assert day["complete"] is True


def test_parquet_needs_a_directory_not_a_stream(store: UsageStore) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    with pytest.raises(ConfigurationError, match="directory"):
        store.export(ESI, ORDINARY, ORDINARY, format="parquet", out=io.BytesIO())


def test_parquet_without_pyarrow_names_the_extra_to_install(
    store: UsageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now fails
    with pytest.raises(MissingExtraError) as caught:
        store.export(ESI, ORDINARY, ORDINARY, format="parquet", out=tmp_path / "x")
    assert "pip install 'oeus-kraken[parquet]'" in str(caught.value)
    assert isinstance(caught.value, ImportError)
    assert not (tmp_path / "x").exists()


# --- Chart --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_chart_is_written_as_a_png(store: UsageStore, tmp_path: Path) -> None:
    store.link("A-0001", ESI)
    for n in range(10):
        store.upsert(
            day_intervals(FALL - timedelta(days=5) + timedelta(days=n), value=Decimal(n) / 10),
            fetched_at=FETCHED,
        )
    out = tmp_path / "usage.png"
    assert chart(store, "A-0001", FALL - timedelta(days=5), FALL + timedelta(days=4), out) == out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000


def test_a_chart_of_nothing_says_to_sync_first(store: UsageStore, tmp_path: Path) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    with pytest.raises(UsageStoreError, match=r"no usage of .* usage sync"):
        chart(store, ESI, date(2025, 1, 1), date(2025, 1, 31), tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()


def test_a_chart_without_matplotlib_names_the_extra_to_install(
    store: UsageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.upsert(day_intervals(ORDINARY), fetched_at=FETCHED)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'oeus-kraken\[chart\]'") as caught:
        chart(store, ESI, ORDINARY, ORDINARY, tmp_path / "c.png")
    assert caught.value.extra == "chart"
    assert not (tmp_path / "c.png").exists()
