"""The US commands against the sandbox: usage, esi, address, rates, quote, fan-club.

Usage DATEs are Texas local dates with both ends included (a day is 92, 96 or 100 intervals);
hour and day totals are the sums of the intervals. Tables show dollars and cents; --csv and
--json keep the API's numbers (cents, cents per kWh, kWh), CSV columns naming the unit and JSON
documents carrying a "units" object.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import (
    MONEY,
    Cli,
    assert_one_error_line,
    clean_env,
    cli,
    run_process,
    sandbox_env,
    table,
)

from oeus_kraken.sandbox import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_API_KEY,
    DEMO_ORGANIZATION_SECRET_KEY,
    GAP_INTERVALS,
    OTHER_ACCOUNT_NUMBER,
    SandboxServer,
)
from oeus_kraken.usage import AGGREGATE_COLUMNS, INTERVAL_COLUMNS

__all__ = ["clean_env", "cli", "sandbox_env"]  # fixtures, used by name

ACCOUNT, WHOLESALE_ACCOUNT = DEMO_ACCOUNT_NUMBERS  # the second is on a wholesale product: costs
ESI_ID = "10443720004512388"  # ACCOUNT's meter, in Dallas (ONCOR)
SPRING, FALL, ORDINARY = "2026-03-08", "2026-11-01", "2026-10-15"
GAP_DAY = "2026-07-14"  # the sandbox's seeded gap: GAP_INTERVALS intervals never delivered
FIFTEEN_MINUTE_COLUMNS = [c for c in INTERVAL_COLUMNS if c != "revisions"]


@pytest.fixture
def org_env(sandbox_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", DEMO_ORGANIZATION_SECRET_KEY)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def one_day(day: str) -> tuple[str, ...]:
    return ("--from", day, "--to", day)


# -- usage -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_one_spring_forward_day_as_csv_is_a_header_and_92_lines(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    env = {
        "KRAKEN_URL": sandbox.url,
        "KRAKEN_ORGANIZATION_SECRET_KEY": DEMO_ORGANIZATION_SECRET_KEY,
    }
    argv = ("usage", ACCOUNT, *one_day(SPRING), "--interval", "15m", "--csv")

    run = run_process(*argv, env=env, tmp_path=tmp_path)

    assert run.code == 0, run.err
    header, *lines = run.out.splitlines()
    assert header == ",".join(FIFTEEN_MINUTE_COLUMNS)
    assert len(lines) == 92
    rows = csv_rows(run.out)
    assert rows[0]["start_local"] == "2026-03-08T00:00:00-06:00"
    assert rows[-1]["end_local"] == "2026-03-09T00:00:00-05:00"
    assert {r["esi_id"] for r in rows} == {ESI_ID}


@pytest.mark.parametrize(
    ("day", "intervals", "hours"), [(SPRING, 92, 23), (FALL, 100, 25), (ORDINARY, 96, 24)]
)
def test_a_local_day_has_its_intervals_hours_and_a_day_total_that_is_their_sum(
    cli: Cli, org_env: None, day: str, intervals: int, hours: int
) -> None:
    fifteen = csv_rows(cli("usage", ACCOUNT, *one_day(day), "--csv").out)
    by_hour = csv_rows(cli("usage", ACCOUNT, *one_day(day), "--interval", "hour", "--csv").out)
    [by_day] = json.loads(cli("usage", ACCOUNT, *one_day(day), "--interval", "day", "--json").out)

    assert len(fifteen) == intervals
    assert len(by_hour) == hours
    assert list(by_hour[0]) == list(AGGREGATE_COLUMNS)
    total = sum(Decimal(r["kwh"]) for r in fifteen)
    assert sum(Decimal(r["kwh"]) for r in by_hour) == total
    assert Decimal(by_day["kwh"]) == total
    assert (by_day["intervals"], by_day["expected_intervals"]) == (intervals, intervals)
    assert by_day["start_local"] == f"{day}T00:00:00" + by_day["start_local"][19:]


def test_the_hour_table_is_a_day_summed_per_hour_with_its_total(cli: Cli, org_env: None) -> None:
    run = cli("usage", ACCOUNT, *one_day(ORDINARY), "--interval", "hour")

    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert (
        lines[0] == f"ESI ID {ESI_ID} ({ACCOUNT}), {ORDINARY} to {ORDINARY}, Texas time, per hour:"
    )
    rows = table(run.out, ("start (Texas time)", "kWh", "intervals", "expected"))
    assert len(rows) == 24
    assert all(re.fullmatch(r"2026-10-15 \d\d:00 CDT +\d+\.\d{3} +4 +4", row) for row in rows), rows
    total = sum(Decimal(row.split()[3]) for row in rows)
    assert lines[-1] == f"total {total:,.3f} kWh in 96 of 96 intervals"


def test_the_spring_forward_day_skips_2_am_and_the_fall_back_day_repeats_1_am(
    cli: Cli, org_env: None
) -> None:
    spring = table(
        cli("usage", ACCOUNT, *one_day(SPRING)).out, ("start (Texas time)", "kWh", "source")
    )
    fall = table(
        cli("usage", ACCOUNT, *one_day(FALL), "--interval", "hour").out,
        ("start (Texas time)", "kWh", "intervals", "expected"),
    )

    starts = [row[:20] for row in spring]
    assert "2026-03-08 01:45 CST" in starts
    assert starts[starts.index("2026-03-08 01:45 CST") + 1] == "2026-03-08 03:00 CDT"
    hours = [row[:20] for row in fall]
    assert hours[1:3] == ["2026-11-01 01:00 CDT", "2026-11-01 01:00 CST"]


def test_a_day_with_the_seeded_gap_shows_fewer_intervals_than_expected(
    cli: Cli, org_env: None
) -> None:
    [day] = csv_rows(cli("usage", ACCOUNT, *one_day(GAP_DAY), "--interval", "day", "--csv").out)
    assert (int(day["intervals"]), int(day["expected_intervals"])) == (96 - GAP_INTERVALS, 96)
    run = cli("usage", ACCOUNT, *one_day(GAP_DAY), "--interval", "day")
    assert run.out.splitlines()[-1].endswith(f"in {96 - GAP_INTERVALS} of 96 intervals")


@pytest.mark.slow
def test_a_range_of_days_includes_both_ends(cli: Cli, org_env: None) -> None:
    days = csv_rows(
        cli(
            "usage",
            ACCOUNT,
            "--from",
            "2026-03-07",
            "--to",
            "2026-03-09",
            "--interval",
            "day",
            "--csv",
        ).out
    )
    assert [(d["start_local"][:10], d["intervals"]) for d in days] == [
        ("2026-03-07", "96"),
        ("2026-03-08", "92"),
        ("2026-03-09", "96"),
    ]


def test_a_wholesale_account_shows_costs_in_dollars_and_keeps_cents_in_csv(
    cli: Cli, org_env: None
) -> None:
    table_run = cli("usage", WHOLESALE_ACCOUNT, *one_day(ORDINARY), "--interval", "day")
    [day] = csv_rows(
        cli("usage", WHOLESALE_ACCOUNT, *one_day(ORDINARY), "--interval", "day", "--csv").out
    )

    [row] = table(table_run.out, ("day", "kWh", "cost", "intervals", "expected"))
    cents = Decimal(day["cost_cents"])
    assert cents > 0
    dollars = f"${(cents / 100).quantize(Decimal('0.01')):,}"
    assert dollars in row
    assert table_run.out.splitlines()[-1].endswith(f"cost {dollars}")
    # An account without per-interval prices has no cost column at all.
    plain = cli("usage", ACCOUNT, *one_day(ORDINARY), "--interval", "day")
    assert table(plain.out, ("day", "kWh", "intervals", "expected"))


@pytest.mark.slow
def test_an_account_with_several_meters_has_a_table_each_and_esi_id_picks_one(
    cli: Cli, org_env: None
) -> None:
    every = cli("usage", OTHER_ACCOUNT_NUMBER, *one_day(ORDINARY), "--interval", "day")
    headings = [line for line in every.out.splitlines() if line.startswith("ESI ID ")]
    esi_ids = [heading.split()[2] for heading in headings]
    one = csv_rows(
        cli("usage", OTHER_ACCOUNT_NUMBER, *one_day(ORDINARY), "--esi-id", esi_ids[1], "--csv").out
    )

    assert len(esi_ids) == 3
    assert {r["esi_id"] for r in one} == {esi_ids[1]}
    assert len(one) == 96


def test_an_esi_id_not_on_the_account_is_refused_naming_the_accounts_esi_ids(
    cli: Cli, org_env: None
) -> None:
    run = cli("usage", ACCOUNT, *one_day(ORDINARY), "--esi-id", "10089010023806217")
    line = assert_one_error_line(run, "usage", "usage")
    assert "ESI ID 10089010023806217 is not on account" in line
    assert ESI_ID in line


def test_days_with_no_usage_yet_say_so(cli: Cli, org_env: None) -> None:
    future = one_day("2030-01-01")
    assert (
        cli("usage", ACCOUNT, *future).out
        == f"(no intervals for {ACCOUNT} from 2030-01-01 to 2030-01-01)\n"
    )
    assert cli("usage", ACCOUNT, *future, "--csv").out == ",".join(FIFTEEN_MINUTE_COLUMNS) + "\n"
    assert json.loads(cli("usage", ACCOUNT, *future, "--json").out) == []


def test_the_last_day_a_date_can_name_has_no_usage_yet_like_any_future_day(
    cli: Cli, org_env: None
) -> None:
    # 2030-01-01 says so; 9999-12-31 was exit 2, "9999-12-31 is the last day a date can name,
    # and its end cannot be": the table's count of expected intervals reached for its end.
    run = cli("usage", ACCOUNT, *one_day("9999-12-31"))
    assert run.code == 0, run.err
    assert run.out == f"(no intervals for {ACCOUNT} from 9999-12-31 to 9999-12-31)\n"


def test_an_account_user_sees_their_own_usage(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    run = cli("usage", ACCOUNT, *one_day(ORDINARY), "--interval", "day", "--csv")
    assert run.code == 0, run.err
    assert len(csv_rows(run.out)) == 1


# -- esi, address ----------------------------------------------------------------------------------

PREMISE_HEADER = (
    "ESI ID",
    "address",
    "unit",
    "city",
    "state",
    "postal code",
    "TDSP",
    "load zone",
    "customer",
)


def test_esi_prints_the_premise_its_tdsp_and_load_zone(cli: Cli, org_env: None) -> None:
    run = cli("esi", ESI_ID)
    assert run.code == 0, run.err
    [row] = table(run.out, PREMISE_HEADER)
    assert re.fullmatch(rf"{ESI_ID} +2415 Elm Street +Dallas +TX +75201 +ONCOR +LZ_NORTH +yes", row)


def test_esi_of_no_premise_says_so_and_exits_1(cli: Cli, org_env: None) -> None:
    line = assert_one_error_line(cli("esi", "99999999999999999"), "esi", "error")
    assert "no premise with ESI ID 99999999999999999" in line


def test_esi_with_an_account_users_credentials_says_it_needs_an_organisation(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    line = assert_one_error_line(cli("esi", ESI_ID), "esi", "error")
    assert "KT-CT-1111" in line
    assert "it needs an organisation's secret key" in line


def test_address_lists_every_unit_of_a_building_and_unit_narrows_it(
    cli: Cli, org_env: None
) -> None:
    every = cli("address", "--street", "1100 Louisiana St", "--postal-code", "77002")
    one = cli(
        "address",
        "--street",
        "1100 Louisiana St",
        "--postal-code",
        "77002",
        "--unit",
        "Apt 804",
        "--csv",
    )

    assert len(table(every.out, PREMISE_HEADER)) == 3
    [row] = csv_rows(one.out)
    assert row == {
        "esi_id": "10089010023806217",
        "address": "1100 Louisiana Street",
        "address2": "Apt 804",
        "city": "Houston",
        "state": "TX",
        "postal_code": "77002",
        "service_provider": "CENTERPOINT",
        "load_zone": "LZ_HOUSTON",
        "is_octopus_customer": "true",
    }


def test_address_with_no_premise_says_so(cli: Cli, org_env: None) -> None:
    run = cli("address", "--street", "1 Nowhere Road", "--postal-code", "77002")
    assert "no premise at '1 Nowhere Road' in 77002" in assert_one_error_line(
        run, "address", "error"
    )


# -- rates -----------------------------------------------------------------------------------------

RATE_HEADER = (
    "product",
    "term",
    "TDSP",
    "load zone",
    "kWh/month",
    "energy ¢/kWh",
    "with fees ¢/kWh",
    "est. month",
)


def test_rates_for_an_esi_id_are_its_tdsps_cheapest_first_with_a_months_bill_in_dollars(
    cli: Cli, sandbox_env: None
) -> None:
    run = cli("rates", "--esi-id", ESI_ID)

    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == f"ESI ID {ESI_ID}: TDSP ONCOR, load zone LZ_NORTH"
    rows = table(run.out, RATE_HEADER)
    assert len(rows) == 6
    bills = [Decimal(re.findall(MONEY, row)[-1].replace("$", "").replace(",", "")) for row in rows]
    assert bills == sorted(bills)
    assert all(" ONCOR " in row and " 1,000 " in row for row in rows)


def test_rates_at_a_monthly_usage_price_the_month_from_the_rate_with_fees(
    cli: Cli, sandbox_env: None
) -> None:
    rows = csv_rows(cli("rates", "--esi-id", ESI_ID, "--kwh", "2000", "--csv").out)
    assert rows
    for row in rows:
        assert row["kwh_a_month"] == "2000"
        month = Decimal(row["total_rate_with_fees_cents_per_kwh"]) * 2000
        assert Decimal(row["estimated_month_cents"]) == month.quantize(Decimal("0.01"))


def test_rates_for_a_postal_code_two_tdsps_serve_list_both(cli: Cli, sandbox_env: None) -> None:
    run = cli("rates", "--postal-code", "77573")
    assert run.out.splitlines()[0] == (
        "postal code 77573: TDSP CENTERPOINT, load zone LZ_HOUSTON; TDSP TNMP, load zone LZ_WEST"
    )
    document = json.loads(cli("rates", "--postal-code", "77573", "--json").out)
    assert [s["serviceProvider"] for s in document["serviceProviders"]] == ["TNMP", "CENTERPOINT"]
    assert document["units"]["totalApplicableRate"] == "cents per kWh"


def test_rates_for_an_esi_id_no_tdsp_serves_exit_1(cli: Cli, sandbox_env: None) -> None:
    line = assert_one_error_line(cli("rates", "--esi-id", "99999999999999999"), "rates", "error")
    assert "no rates for ESI ID 99999999999999999" in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), "one of the arguments --esi-id --postal-code is required"),
        (("--esi-id", ESI_ID, "--postal-code", "75001"), "not allowed with argument"),
    ],
    ids=["neither", "both"],
)
def test_rates_take_an_esi_id_or_a_postal_code(
    cli: Cli, sandbox_env: None, argv: tuple[str, ...], expected: str
) -> None:
    assert expected in assert_one_error_line(cli("rates", *argv), "rates", "usage")


# -- quote -----------------------------------------------------------------------------------------

QUOTE_HEADER = ("product", "term", "with fees ¢/kWh", "month", "year", "recommended")


def test_a_quote_prices_every_product_for_the_usage_given_and_recommends_the_cheapest(
    cli: Cli, org_env: None
) -> None:
    argv = ("quote", "--postal-code", "75201", "--esi-id", ESI_ID, "--annual-kwh", "14000")
    run = cli(*argv)
    rows = csv_rows(cli(*argv, "--csv").out)

    assert run.code == 0, run.err
    heading = run.out.splitlines()[0]
    assert re.fullmatch(
        rf"quote Q-\w+ for 75201, ESI ID {ESI_ID}, TDSP ONCOR, load zone LZ_NORTH, "
        r"14,000 kWh a year \(as given\); expires \d{4}-\d\d-\d\d",
        heading,
    )
    assert len(table(run.out, QUOTE_HEADER)) == len(rows) == 6
    for row in rows:
        year = (Decimal(row["total_rate_with_fees_cents_per_kwh"]) * 14000).quantize(
            Decimal("0.01")
        )
        assert Decimal(row["annual_cost_cents"]) == year
    [recommended] = [r for r in rows if r["recommended"] == "true"]
    assert Decimal(recommended["annual_cost_cents"]) == min(
        Decimal(r["annual_cost_cents"]) for r in rows
    )


def test_a_quote_for_an_esi_id_alone_looks_up_its_postal_code(cli: Cli, org_env: None) -> None:
    run = cli("quote", "--esi-id", ESI_ID)
    assert run.code == 0, run.err
    assert re.match(
        rf"quote Q-\w+ for 75201, ESI ID {ESI_ID}, .* kWh a year \(estimated\)", run.out
    )


def test_a_customer_quotes_their_own_premise_with_account(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    run = cli("quote", "--account", ACCOUNT, "--json")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    assert document["customerCreateQuote"]["quote"]["postcode"] == "75201"
    assert document["units"]["annualCostEstimate"] == "cents"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), "give the premise"),
        (("--account", ACCOUNT, "--postal-code", "75201"), "leave out --postal-code"),
    ],
    ids=["nothing", "account-and-premise"],
)
def test_a_quote_needs_one_premise(
    cli: Cli, org_env: None, sandbox: SandboxServer, argv: tuple[str, ...], expected: str
) -> None:
    assert expected in assert_one_error_line(cli("quote", *argv), "quote", "usage")
    assert sandbox.stats.requests == 0


# -- fan club, units -------------------------------------------------------------------------------


def test_fan_club_says_this_hours_discount_in_percent(cli: Cli, sandbox_env: None) -> None:
    text, document = cli("fan-club"), json.loads(cli("fan-club", "--json").out)
    discount = Decimal(document["getFanClubDiscount"]["discountAmount"])
    assert text.out.startswith(f"Octopus Fan Club discount this hour: {discount * 100:.0f}% off")
    assert "fraction" in document["units"]["discountAmount"]


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (("viewer", "--json"), "balance"),
        (("account", ACCOUNT, "--json"), "balance"),
        (("products", "--postal-code", "75001", "--json"), "totalApplicableRate"),
        (("rates", "--esi-id", ESI_ID, "--json"), "serviceProviderStandingRate"),
    ],
    ids=lambda v: v if isinstance(v, str) else v[0],
)
def test_json_keeps_the_apis_numbers_and_says_their_unit(
    cli: Cli, org_env: None, argv: tuple[str, ...], field: str
) -> None:
    document = json.loads(cli(*argv).out)
    assert "cents" in document["units"][field]


def test_csv_balances_are_cents_and_the_table_dollars(cli: Cli, org_env: None) -> None:
    rows = csv_rows(cli("viewer", "--csv").out)
    shown = table(cli("viewer").out, ("account", "status", "balance"))
    assert list(rows[0]) == ["number", "status", "balance_cents"]
    for row, line in zip(rows, shown, strict=True):
        cents = int(row["balance_cents"])
        sign = "-" if cents < 0 else ""
        assert line.endswith(f"{sign}${abs(cents) / 100:,.2f}")
