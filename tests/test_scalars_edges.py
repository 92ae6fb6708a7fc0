"""What the typed layer does with the custom scalars at their edges, both ways: values the API
sends (calendar ends, offsets, exponents, JSON inside a string) and values a caller sends as
variables (a datetime with no zone, a datetime where a date is asked for, a Decimal that is no
number, a JSON value JSON cannot carry).

Each variable a caller gets wrong is refused before anything is sent, with a ConfigurationError
saying what to pass instead; each answer is either the exact value or an InvalidResponseError.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from auth_helpers import FakeKraken
from conftest import call

from oeus_kraken import (
    ConfigurationError,
    InvalidResponseError,
    LinkedObjectType,
    OrganizationSecretKey,
    ProductInput,
)

KEY = OrganizationSecretKey("sk_test_scalars")
ACCOUNT = "A-1234ABCD"

# Each call a caller can make with a variable the API cannot read as meant, and what the
# refusal says. Nothing is sent: the fake endpoint fails a test on any request not scripted.
NAIVE = datetime(2026, 3, 8, 2, 30)  # no zone: 02:30 on a DST day in Texas does not exist
UTC_EVENING = datetime(2026, 1, 1, 23, tzinfo=timezone.utc)  # Jan 1 in UTC, not in Texas
USAGE = {"account_number": ACCOUNT, "first": 10}
READINGS = {"account_number": ACCOUNT, "esi_id": "1", "to_datetime": UTC_EVENING}


def metadata(value: object) -> dict[str, Any]:
    return {"linked_object_type": LinkedObjectType.ACCOUNT, "identifier": ACCOUNT, "key": "k",
            "value": value}  # fmt: skip


REFUSED_VARIABLES: list[tuple[str, dict[str, Any], str]] = [
    # naive datetimes
    ("get_products", {"available_at": NAIVE}, "time zone"),
    ("get_interval_readings", {**READINGS, "from_datetime": NAIVE}, "time zone"),
    ("get_measurements", {**USAGE, "start_at": NAIVE}, "time zone"),
    ("get_products", {"available_at": date(2026, 1, 1)}, "not the date 2026-01-01"),
    # datetimes for dates
    ("get_account_bills", {"account_number": ACCOUNT, "from_date": NAIVE}, "takes a date"),
    ("get_measurements", {**USAGE, "start_on": UTC_EVENING}, "takes a date"),
    # decimals that are no numbers
    ("get_rates_for_usage", {"kwh_usage": Decimal("NaN")}, "finite"),
    ("get_rates_for_usage", {"kwh_usage": Decimal("-Infinity")}, "finite"),
    ("get_rates_for_esi_id", {"esi_id": "1", "kwh_usage": Decimal("sNaN")}, "finite"),
    # JSON values JSON cannot carry
    ("update_metadata", metadata({"at": UTC_EVENING}), "JSONString"),
    ("update_metadata", metadata({"kwh": Decimal("1.5")}), "JSONString"),
    ("update_metadata", metadata([float("nan")]), "JSONString"),
]


@pytest.mark.parametrize(
    ("method", "variables", "words"),
    REFUSED_VARIABLES,
    ids=[f"{method}-{i}" for i, (method, _, _) in enumerate(REFUSED_VARIABLES)],
)
async def test_a_variable_the_api_cannot_read_as_meant_is_refused_before_anything_is_sent(
    make_client: Any, fake_kraken: FakeKraken, method: str, variables: dict[str, Any], words: str
) -> None:
    # Before: a naive datetime went as "2026-03-08T02:30:00" (an instant in whichever zone the
    # API chose), a datetime for a Date as "2026-01-01T12:00:00" (a GraphQLError from the API),
    # Decimal("NaN") as "NaN", a NaN in metadata as the non-JSON `NaN`, and a datetime or Decimal
    # in metadata raised json's bare TypeError.
    client = make_client(credentials=KEY)
    with pytest.raises(ConfigurationError, match=words) as refused:
        await call(client, method, **variables)
    assert "\n" not in str(refused.value)


async def test_a_naive_datetime_inside_an_input_model_is_refused_as_a_configuration_error(
    make_client: Any, fake_kraken: FakeKraken
) -> None:
    # Before the scalars fix it went without an offset; now refused, but as pydantic's error.
    client = make_client()
    products = ProductInput(available_at=NAIVE)
    with pytest.raises(ConfigurationError, match="time zone"):
        await call(client, "get_products_with_rates", filter_products_by=products)


async def test_aware_datetimes_dates_and_finite_decimals_go_as_the_api_spells_them(
    make_client: Any, fake_kraken: FakeKraken
) -> None:
    fake_kraken.answer("getProducts", {"data": {"products": []}})
    fake_kraken.answer("getRatesForUsage", {"data": {"productsWithConciseApplicableRates": []}})
    client = make_client()
    ends = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=14)))
    await call(client, "get_products", available_at=ends)
    await call(client, "get_rates_for_usage", kwh_usage=Decimal("1000.12345678901234567890123"))
    await call(client, "get_rates_for_usage", kwh_usage=Decimal("1E+3"))
    sent = [request.variables for request in fake_kraken.sent]
    assert sent == [
        {"availableAt": "9999-12-31T23:59:59.999999+14:00"},
        {"kwhUsage": "1000.12345678901234567890123"},
        {"kwhUsage": "1E+3"},
    ]


def metadata_answer(value: str) -> dict[str, Any]:
    return {"data": {"updateMetadata": {"metadata": {"key": "k", "value": value}}}}


async def test_a_json_string_nested_too_deeply_to_decode_is_an_invalid_response(
    make_client: Any, fake_kraken: FakeKraken
) -> None:
    # Before: the decoder's RecursionError escaped parse_result bare (not a KrakenError), though
    # the answer around it was ordinary JSON.
    fake_kraken.answer_token()
    fake_kraken.answer("updateMetadata", metadata_answer("[" * 100_000 + "]" * 100_000))
    client = make_client(credentials=KEY)
    with pytest.raises(InvalidResponseError, match=r"updateMetadata\.metadata\.value"):
        await call(
            client,
            "update_metadata",
            linked_object_type=LinkedObjectType.ACCOUNT,
            identifier=ACCOUNT,
            key="k",
            value=1,
        )


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ('{"ref":12,"at":"2026-01-01"}', {"ref": 12, "at": "2026-01-01"}),
        ('"123"', "123"),  # a JSON string stays a string, not the number it spells
        ("123", 123),
        ("[1e400]", [float("inf")]),
        ("null", None),
    ],
)
async def test_a_json_string_answer_is_decoded_to_its_value(
    make_client: Any, fake_kraken: FakeKraken, wire: str, value: object
) -> None:
    fake_kraken.answer_token()
    fake_kraken.answer("updateMetadata", metadata_answer(wire))
    client = make_client(credentials=KEY)
    stored = await call(
        client,
        "update_metadata",
        linked_object_type=LinkedObjectType.ACCOUNT,
        identifier=ACCOUNT,
        key="k",
        value=0,
    )
    assert stored.update_metadata.metadata.value == value


# The answers' own scalars: what each wire value becomes in a model, through the client.
AGREEMENT = {
    "id": "1",
    "validFrom": None,
    "validTo": None,
    "meterPoint": {"mpan": "10443720004512388"},
    "tariff": None,
}


def agreements_answer(**fields: object) -> dict[str, Any]:
    agreement = {**AGREEMENT, **fields}
    return {"data": {"account": {"number": ACCOUNT, "electricityAgreements": [agreement]}}}


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=timezone.utc)),
        (
            "9999-12-31T23:59:59.999999+14:00",
            datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=14))),
        ),
        (
            "2026-03-08T02:00:00+05:45",
            datetime(2026, 3, 8, 2, tzinfo=timezone(timedelta(hours=5, minutes=45))),
        ),
        ("2026-03-08T02:00:00-00:00", datetime(2026, 3, 8, 2, tzinfo=timezone.utc)),
        ("2026-03-08T02:00:00Z", datetime(2026, 3, 8, 2, tzinfo=timezone.utc)),
    ],
)
async def test_datetimes_at_the_calendar_ends_and_odd_offsets_are_the_instants_sent(
    make_client: Any, fake_kraken: FakeKraken, wire: str, expected: datetime
) -> None:
    fake_kraken.answer_token()
    fake_kraken.answer("getAccountAgreements", agreements_answer(validFrom=wire))
    client = make_client(credentials=KEY)
    answer = await call(client, "get_account_agreements", account_number=ACCOUNT)
    [agreement] = answer.account.electricity_agreements
    assert agreement.valid_from == expected
    assert agreement.valid_from.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("wire", ["2016-12-31T23:59:60Z", "2026-01-01T00:00:00+24:00", "soon"])
async def test_a_datetime_python_cannot_hold_is_an_invalid_response_naming_the_field(
    make_client: Any, fake_kraken: FakeKraken, wire: str
) -> None:
    # A leap second (23:59:60) included: Kraken's own datetimes cannot carry one either.
    fake_kraken.answer_token()
    fake_kraken.answer("getAccountAgreements", agreements_answer(validFrom=wire))
    client = make_client(credentials=KEY)
    with pytest.raises(InvalidResponseError, match=r"electricityAgreements\.0\.validFrom"):
        await call(client, "get_account_agreements", account_number=ACCOUNT)


@pytest.mark.parametrize("wire", ["1_0", "١٢", "0.2\n", " 0.2", "0x10", "--1"])
async def test_a_decimal_spelt_as_no_json_number_is_an_invalid_response_not_read_as_one(
    make_client: Any, fake_kraken: FakeKraken, wire: str
) -> None:
    """Python's Decimal reads "1_0" as 10, Arabic-Indic digits as 12 and skips spaces: an answer
    garbled so was taken as a number the API never sent."""
    fake_kraken.answer("getFanClubDiscount", {"data": {"getFanClubDiscount": {
        "discountAmount": wire}}})  # fmt: skip
    client = make_client()
    with pytest.raises(InvalidResponseError, match=r"getFanClubDiscount\.discountAmount"):
        await call(client, "get_fan_club_discount")


@pytest.mark.parametrize(
    ("wire", "expected"),
    [("20.00380", "20.00380"), ("-0.5", "-0.5"), ("1E+3", "1E+3"), ("1e-7", "1E-7"), (".5", "0.5")],
)
async def test_a_decimal_the_api_spells_as_a_number_keeps_every_digit(
    make_client: Any, fake_kraken: FakeKraken, wire: str, expected: str
) -> None:
    fake_kraken.answer("getFanClubDiscount", {"data": {"getFanClubDiscount": {
        "discountAmount": wire}}})  # fmt: skip
    answer = await call(make_client(), "get_fan_club_discount")
    assert str(answer.get_fan_club_discount.discount_amount) == expected


def payments_answer(amount: object) -> dict[str, Any]:
    payment = {"id": "1", "status": None, "amount": amount, "paymentDate": "2026-01-01",
               "reference": "r", "transactionType": None, "surchargeAmount": None}  # fmt: skip
    payments = {"totalCount": 1, "pageInfo": {"hasNextPage": False, "endCursor": None},
                "edges": [{"node": payment}]}  # fmt: skip
    return {"data": {"account": {"number": ACCOUNT, "payments": payments}}}


async def paid(make_client: Any, fake_kraken: FakeKraken, amount: object) -> int:
    """The amount of the one payment an answer holds, as the client reads `amount`."""
    fake_kraken.answer_token()
    fake_kraken.answer("getAccountPayments", payments_answer(amount))
    client = make_client(credentials=KEY)
    answer = await call(client, "get_account_payments", account_number=ACCOUNT, first=1)
    return int(answer.account.payments.edges[0].node.amount)


@pytest.mark.parametrize("wire", ["1_000", "١٢", " 12", "12\n", "+-1", "1.5"])
async def test_a_big_int_spelt_as_no_integer_is_an_invalid_response_not_read_as_one(
    make_client: Any, fake_kraken: FakeKraken, wire: str
) -> None:
    """A payment's amount (BigInt, cents): Python's int() read "1_000" as 1000 cents and
    Arabic-Indic digits as theirs."""
    with pytest.raises(InvalidResponseError, match=r"edges\.0\.node\.amount"):
        await paid(make_client, fake_kraken, wire)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [("-1234", -1234), ("9" * 40, int("9" * 40)), (12, 12), ("+7", 7)],
)
async def test_a_big_int_the_api_sends_keeps_every_digit(
    make_client: Any, fake_kraken: FakeKraken, wire: object, expected: int
) -> None:
    assert await paid(make_client, fake_kraken, wire) == expected
