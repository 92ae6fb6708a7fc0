"""What the API may send as usage, and what reaches the walk's caller and the store: answers
that contradict themselves (two readings of one interval, intervals overlapping) are refused
as invalid, never added up twice; readings in another unit of energy come out in kWh."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from usage_helpers import MeasurementsRewritten, rewritten_sandbox

from oeus_kraken import ConfigurationError, InvalidResponseError, OrganizationSecretKey
from oeus_kraken.sandbox import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_ORGANIZATION_SECRET_KEY,
    OTHER_ACCOUNT_NUMBER,
    SandboxServer,
)
from oeus_kraken.usage import (
    INTERVAL,
    Interval,
    UsageStore,
    iter_usage,
    local_range_bounds,
    sync_usage_blocking,
)

ACCOUNT = DEMO_ACCOUNT_NUMBERS[0]
DAY = date(2026, 3, 2)
METER = "10443720004512388"  # the first property's ESI ID, on ACCOUNT
NOW = datetime(2026, 3, 3, 12, tzinfo=timezone.utc)

Edges = list[dict[str, Any]]


def changed(edge: dict[str, Any], **node: Any) -> dict[str, Any]:
    """The edge with fields of its node replaced."""
    return {**edge, "node": {**edge["node"], **node}}


def shifted(text: str, minutes: int) -> str:
    return (datetime.fromisoformat(text) + timedelta(minutes=minutes)).isoformat()


def off_the_grid(edges: Edges) -> Edges:
    """Every interval, and the first again 7 minutes later: over half of it and the next."""
    first = edges[0]["node"]
    return [
        *edges,
        changed(edges[0], startAt=shifted(first["startAt"], 7), endAt=shifted(first["endAt"], 7)),
    ]


def first_reaching_into_the_second(edges: Edges) -> Edges:
    """The first interval lasting 30 minutes: the second's 15 are in it too."""
    return [changed(edges[0], endAt=edges[1]["node"]["endAt"]), *edges[1:]]


def a_second_reading_of_the_first(edges: Edges) -> Edges:
    """The first interval again at the page's end, with another value."""
    return [*edges, changed(edges[0], value="9.999")]


CONTRADICTIONS = [
    pytest.param(off_the_grid, "overlap", id="off-the-grid-overlapping"),
    pytest.param(first_reaching_into_the_second, "overlap", id="longer-overlapping"),
    pytest.param(a_second_reading_of_the_first, "two readings", id="same-start-other-value"),
]


@pytest.mark.parametrize(("rewrite", "fault"), CONTRADICTIONS)
def test_an_answer_that_contradicts_itself_is_an_invalid_answer_not_a_double_count(
    sandbox: SandboxServer, rewrite: Any, fault: str
) -> None:
    # Before: every interval was passed on (or the last reading of one taken, silently); stored,
    # a day export summed the overlapped 15 minutes twice: 97 intervals of 96, "complete".
    with (
        rewritten_sandbox(sandbox.url, rewrite) as kraken,
        pytest.raises(InvalidResponseError, match=f"getPropertyMeasurements.*{fault}") as raised,
    ):
        list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    assert raised.value.operation_name == "getPropertyMeasurements"


@pytest.mark.parametrize(("rewrite", "fault"), CONTRADICTIONS)
def test_a_sync_stores_nothing_of_an_answer_that_contradicts_itself_and_names_the_account(
    sandbox: SandboxServer, tmp_path: Path, rewrite: Any, fault: str
) -> None:
    with (
        rewritten_sandbox(sandbox.url, rewrite) as kraken,
        UsageStore(tmp_path / "usage.sqlite3") as store,
    ):
        report = sync_usage_blocking(kraken, store, [ACCOUNT], since=DAY, now=NOW)
        stored = store.intervals(METER, *local_range_bounds(DAY, DAY))
    assert list(report.failures) == [ACCOUNT]
    assert fault in report.failures[ACCOUNT]
    for earlier, later in itertools.pairwise(stored):
        assert earlier.end <= later.start  # nothing stored twice over


def test_repeats_of_an_interval_with_the_same_reading_are_passed_on_once(
    sandbox: SandboxServer,
) -> None:
    def repeated(edges: Edges) -> Edges:
        return [*edges, changed(edges[3], readAt=shifted(edges[3]["node"]["readAt"], 60))]

    with rewritten_sandbox(sandbox.url, repeated) as kraken:
        got = list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    start, _ = local_range_bounds(DAY, DAY)
    assert [i.start for i in got] == [start + n * INTERVAL for n in range(96)]


def labelled(edge: dict[str, Any], **utility_filters: str) -> dict[str, Any]:
    """The edge with its reading's metaData saying it is of another meter or direction."""
    meta = edge["node"]["metaData"]
    return changed(
        edge, metaData={**meta, "utilityFilters": {**meta["utilityFilters"], **utility_filters}}
    )


def test_readings_the_api_labels_as_another_meters_or_generated_are_not_this_meters_usage(
    sandbox: SandboxServer,
) -> None:
    # Before: the walk asks for a property's readings and took every one as the ESI ID's
    # usage, whatever ESI ID or direction the reading said it was of: another meter's 15
    # minutes and a solar panel's output were stored, exported and priced as this one's.
    account = OTHER_ACCOUNT_NUMBER  # three properties, an ESI ID each
    organisation = OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)  # sees that account
    with rewritten_sandbox(sandbox.url, list, organisation) as kraken:
        meters = sorted({i.esi_id for i in iter_usage(kraken, account, DAY, DAY)})
    one, sibling = meters[0], meters[1]

    def others_readings_at_8_oclock(edges: Edges) -> Edges:
        """8:00 and 8:15 as the account's other ESI ID's, 8:30 as what solar panels made."""
        return [
            labelled(edge, marketSupplyPointId=sibling)
            if n in (32, 33)
            else labelled(edge, readingDirection="GENERATION")
            if n == 34
            else edge
            for n, edge in enumerate(edges)
        ]

    with rewritten_sandbox(sandbox.url, others_readings_at_8_oclock, organisation) as kraken:
        got = list(iter_usage(kraken, account, DAY, DAY, esi_id=one))
    start, _ = local_range_bounds(DAY, DAY)
    assert [i.start for i in got] == [
        start + n * INTERVAL for n in range(96) if n not in (32, 33, 34)
    ]


def test_a_reading_labelled_as_an_esi_id_not_on_the_account_is_an_invalid_answer(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    # Before: stored as the ESI ID asked for. Left out instead, an API spelling ESI IDs its own
    # way would leave the store empty without a word.
    def a_strangers(edges: Edges) -> Edges:
        return [labelled(edges[0], marketSupplyPointId="10443720000099999"), *edges[1:]]

    with (
        rewritten_sandbox(sandbox.url, a_strangers) as kraken,
        pytest.raises(InvalidResponseError, match="'10443720000099999', not on the account"),
    ):
        list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    with (
        rewritten_sandbox(sandbox.url, a_strangers) as kraken,
        UsageStore(tmp_path / "usage.sqlite3") as store,
    ):
        report = sync_usage_blocking(kraken, store, [ACCOUNT], since=DAY, now=NOW)
        assert store.intervals(METER, *local_range_bounds(DAY, DAY)) == []
    assert "not on the account" in report.failures[ACCOUNT]


def test_a_reading_labelled_with_the_esi_ids_digits_spelt_another_way_is_its_usage(
    sandbox: SandboxServer,
) -> None:
    """An ESI ID's digits with spaces or dashes between them are the ESI ID asked for: failed
    as 'not on the account', every sync of the account would fail for a way of writing it."""
    spelt = "-".join((METER[:5], METER[5:11], METER[11:]))

    def spaced(edges: Edges) -> Edges:
        return [labelled(edges[0], marketSupplyPointId=spelt), *edges[1:]]

    with rewritten_sandbox(sandbox.url, spaced) as kraken:
        got = list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    assert len(got) == 96


@pytest.mark.parametrize(
    "times",
    [
        {"startAt": "9999-12-31T23:45:00-06:00", "endAt": "9999-12-31T23:59:00-06:00"},
        {"startAt": "0001-01-01T00:00:00+05:00", "endAt": "0001-01-01T00:15:00+05:00"},
        {"readAt": "9999-12-31T23:59:59-06:00"},
    ],
    ids=["start-9999", "start-0001", "read-at-9999"],
)
def test_a_time_past_the_calendars_end_in_utc_fails_that_account_not_the_whole_sync(
    sandbox: SandboxServer, tmp_path: Path, times: dict[str, str]
) -> None:
    # Before: a bare OverflowError ("date value out of range") out of iter_usage and out of
    # sync_usage_blocking, the other accounts' syncs and the report with it.
    def at_the_end(edges: Edges) -> Edges:
        return [changed(edges[0], **times), *edges[1:]]

    with (
        rewritten_sandbox(sandbox.url, at_the_end) as kraken,
        pytest.raises(InvalidResponseError, match="past the calendar's end"),
    ):
        list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    with (
        rewritten_sandbox(sandbox.url, at_the_end) as kraken,
        UsageStore(tmp_path / "usage.sqlite3") as store,
    ):
        report = sync_usage_blocking(kraken, store, [ACCOUNT], since=DAY, now=NOW)
    assert "past the calendar's end" in report.failures[ACCOUNT]


# -- units: kWh out, whatever unit of energy the API reads in -------------------------------------


@pytest.mark.parametrize(
    ("unit", "value"),
    [("Wh", "250"), ("WH", "250.0"), ("MWh", "0.00025"), ("kwh", "0.25"), ("Wh", "-250")],
)
def test_a_reading_in_another_unit_of_energy_comes_out_exactly_in_kwh(
    sandbox: SandboxServer, unit: str, value: str
) -> None:
    def in_unit(edges: Edges) -> Edges:
        return [changed(edges[0], unit=unit, value=value), *edges[1:]]

    with rewritten_sandbox(sandbox.url, in_unit) as kraken:
        first = next(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    assert first.unit == "kWh"
    assert first.value == (Decimal("-0.25") if value.startswith("-") else Decimal("0.25"))


def test_a_sync_of_readings_in_wh_exports_their_day_in_kwh(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    # Before: stored as 'Wh', every export and comparison of a range holding it was refused
    # ("export reports kWh only"), with nothing a user could do but delete the store.
    def in_wh(edges: Edges) -> Edges:
        return [
            changed(edge, unit="Wh", value=str(Decimal(edge["node"]["value"]) * 1000))
            for edge in edges
        ]

    with (
        UsageStore(tmp_path / "wh.sqlite3") as in_wh_store,
        UsageStore(tmp_path / "kwh.sqlite3") as in_kwh_store,
    ):
        for store, rewrite in ((in_wh_store, in_wh), (in_kwh_store, list)):
            with rewritten_sandbox(sandbox.url, rewrite) as kraken:
                report = sync_usage_blocking(kraken, store, [ACCOUNT], since=DAY, now=NOW)
            assert not report.failures
            store.export(METER, DAY, DAY, interval="day", out=tmp_path / f"{id(store)}.csv")
        exported = [
            (tmp_path / f"{id(store)}.csv").read_text() for store in (in_wh_store, in_kwh_store)
        ]
    assert exported[0] == exported[1]


@pytest.mark.parametrize("unit", ["m3", "kVArh", "", "kW"])
def test_a_reading_in_a_unit_that_is_not_energy_is_an_invalid_answer_not_stored(
    sandbox: SandboxServer, tmp_path: Path, unit: str
) -> None:
    def in_unit(edges: Edges) -> Edges:
        return [changed(edges[0], unit=unit), *edges[1:]]

    with (
        rewritten_sandbox(sandbox.url, in_unit) as kraken,
        pytest.raises(InvalidResponseError, match=f"getPropertyMeasurements.*'{unit}'"),
    ):
        list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    with (
        rewritten_sandbox(sandbox.url, in_unit) as kraken,
        UsageStore(tmp_path / "usage.sqlite3") as store,
    ):
        report = sync_usage_blocking(kraken, store, [ACCOUNT], since=DAY, now=NOW)
        assert list(report.failures) == [ACCOUNT]
        assert {i.unit for i in store.intervals(METER, *local_range_bounds(DAY, DAY))} <= {"kWh"}


# -- values: what a meter can read, not what a Decimal can spell -----------------------------------


@pytest.mark.parametrize("value", ["1E+999999999", "1E-999999999", "1" * 39, "0." + "1" * 38])
def test_a_reading_with_more_digits_than_any_meter_reads_is_an_invalid_answer(
    sandbox: SandboxServer, value: str
) -> None:
    # Before: passed on; stored, "1E+999999999" (12 characters in the answer) was written out as
    # a billion digits: a bare MemoryError out of sync_usage_blocking.
    def huge(edges: Edges) -> Edges:
        return [changed(edges[0], value=value), *edges[1:]]

    with (
        rewritten_sandbox(sandbox.url, huge) as kraken,
        pytest.raises(InvalidResponseError, match=r"getPropertyMeasurements.*digits"),
    ):
        list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))


def test_a_sync_stores_nothing_of_a_reading_with_millions_of_digits(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    # Before: three such readings grew the store by 300 MB.
    def huge(edges: Edges) -> Edges:
        return [changed(edge, value="1E+5000000") for edge in edges[:3]] + edges[3:]

    with (
        rewritten_sandbox(sandbox.url, huge) as kraken,
        UsageStore(tmp_path / "usage.sqlite3") as store,
    ):
        report = sync_usage_blocking(kraken, store, [ACCOUNT], since=DAY, now=NOW)
    assert list(report.failures) == [ACCOUNT]
    assert "digits" in report.failures[ACCOUNT]
    assert sum(file.stat().st_size for file in tmp_path.iterdir()) < 5_000_000


def test_readings_of_the_widest_kept_width_negative_or_zero_are_passed_on_exactly(
    sandbox: SandboxServer,
) -> None:
    values = ["9" * 38, "0." + "0" * 36 + "1", "-12.5", "0", "-0.000"]

    def widest(edges: Edges) -> Edges:
        return [changed(e, value=v) for e, v in zip(edges, values, strict=False)] + edges[5:]

    with rewritten_sandbox(sandbox.url, widest) as kraken:
        got = list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    assert [i.value for i in got[: len(values)]] == [Decimal(v) for v in values]


def test_a_cost_with_more_digits_than_any_bill_is_an_invalid_answer(sandbox: SandboxServer) -> None:
    wholesale = DEMO_ACCOUNT_NUMBERS[1]  # its intervals carry a cost

    def huge_cost(edges: Edges) -> Edges:
        node = edges[0]["node"]
        statistics = [
            {
                **statistic,
                **{
                    key: {**statistic[key], "estimatedAmount": "1E+999999999"}
                    for key in ("costInclTax", "costExclTax")
                    if statistic.get(key)
                },
            }
            for statistic in node["metaData"]["statistics"]
        ]
        return [changed(edges[0], metaData={**node["metaData"], "statistics": statistics})]

    with (
        rewritten_sandbox(sandbox.url, huge_cost) as kraken,
        pytest.raises(InvalidResponseError, match=r"cost .*digits"),
    ):
        list(iter_usage(kraken, wholesale, date(2026, 8, 10), date(2026, 8, 10)))


@pytest.mark.parametrize("field", ["value", "cost"])
@pytest.mark.parametrize("number", ["1E+999999999", "1E-999999999", "1" * 77])
def test_upserting_a_number_wider_than_the_store_keeps_is_a_configuration_error(
    tmp_path: Path, field: str, number: str
) -> None:
    # Before: the store wrote "1E+999999999" out in full: a bare MemoryError.
    start = datetime(2026, 3, 2, 6, tzinfo=timezone.utc)
    fields: dict[str, Any] = {"value": Decimal(1), field: Decimal(number)}
    given = Interval(METER, start, start + INTERVAL, **fields)
    with (
        UsageStore(tmp_path / "usage.sqlite3") as store,
        pytest.raises(ConfigurationError, match=f"{field}.*digits"),
    ):
        store.upsert([given], fetched_at=NOW)
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        assert store.intervals(METER, start, start + INTERVAL) == []
        widest = Interval(METER, start, start + INTERVAL, Decimal("9" * 76), cost=Decimal(1))
        store.upsert([widest], fetched_at=NOW)
        assert store.intervals(METER, start, start + INTERVAL)[0].value == widest.value


# -- paging: a page that brings nothing yet promises more ends the walk at once -------------------


def fresh_cursor(after: str | None) -> str:
    """A cursor never given before: the API paging on without a loop to catch."""
    return f"{after or ''}+"


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(lambda edges: [], id="empty-pages"),
        pytest.param(list, id="the-first-page-again-and-again"),
        pytest.param(
            lambda edges: [
                changed(
                    edges[0],
                    startAt="2020-01-01T00:00:00-06:00",
                    endAt="2020-01-01T00:15:00-06:00",
                )
            ],
            id="intervals-outside-the-span",
        ),
    ],
)
def test_a_page_with_no_new_interval_that_promises_more_is_an_invalid_answer_at_once(
    sandbox: SandboxServer, tmp_path: Path, rewrite: Any
) -> None:
    # Before: paged on, a new cursor each time, until the window's intervals ran out: over a
    # year, iter_usage was rate limited after 636 requests (the hour's points spent), and each
    # sync stopped at the budget reserve after 570, resuming into the same the next run.
    since = date(2025, 6, 1)
    transport = MeasurementsRewritten(rewrite, fresh_cursor)
    with (
        rewritten_sandbox(sandbox.url, transport) as kraken,
        pytest.raises(InvalidResponseError, match=r"getPropertyMeasurements.*next page"),
    ):
        list(iter_usage(kraken, ACCOUNT, since, DAY, esi_id=METER))
    assert transport.measurement_requests <= 3  # a year: a page over all of it first
    transport = MeasurementsRewritten(rewrite, fresh_cursor)
    with (
        rewritten_sandbox(sandbox.url, transport) as kraken,
        UsageStore(tmp_path / "usage.sqlite3") as store,
    ):
        report = sync_usage_blocking(kraken, store, [ACCOUNT], since=since, now=NOW)
    assert list(report.failures) == [ACCOUNT]
    assert transport.measurement_requests <= 3
