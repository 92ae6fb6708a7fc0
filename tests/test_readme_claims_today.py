"""README statements added on 2026-12-07, run rather than read.

"Dates, times and numbers you send": a DateTime variable's naive datetime, and a Decimal's NaN or
infinity, are a ConfigurationError before anything is sent. That holds for a variable given
directly and for a field of a generated input model; an input object given as a plain dict (which
the generated methods accept, and the error message for unsendable variables recommends) is sent
as pydantic's JSON makes it, unchecked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from oeus_kraken import (
    APIKey,
    ConfigurationError,
    LinkedObjectType,
    ProductInput,
    SyncKrakenClient,
)
from oeus_kraken.sandbox import DEMO_ACCOUNT_NUMBERS, DEMO_API_KEY, SandboxServer

NAIVE = datetime(2026, 10, 1, 12)  # no tzinfo: Kraken would read it in a zone of its choosing


@contextmanager
def counted(url: str) -> Iterator[tuple[SyncKrakenClient, list[httpx.Request]]]:
    """A public client of the sandbox (getRatesForUsage needs no token) and the requests sent."""
    sent: list[httpx.Request] = []
    with (
        httpx.Client(trust_env=False, event_hooks={"request": [sent.append]}) as http,
        SyncKrakenClient(url, http_client=http) as kraken,
    ):
        yield kraken, sent


def test_a_naive_datetime_in_an_input_model_is_refused_before_sending(
    sandbox: SandboxServer,
) -> None:
    with (
        counted(sandbox.url) as (kraken, sent),
        pytest.raises(ConfigurationError, match="needs a time zone"),
    ):
        kraken.get_rates_for_usage(
            kwh_usage=Decimal(1000), filter_products_by=ProductInput(available_at=NAIVE)
        )
    assert sent == []


def test_a_naive_datetime_in_an_input_object_given_as_a_dict_is_refused_before_sending(
    sandbox: SandboxServer,
) -> None:
    dict_input: Any = {"availableAt": NAIVE}  # what untyped code passes (mypy wants the model)
    with (
        counted(sandbox.url) as (kraken, sent),
        pytest.raises(ConfigurationError, match="needs a time zone"),
    ):
        kraken.get_rates_for_usage(kwh_usage=Decimal(1000), filter_products_by=dict_input)
    assert sent == []


@pytest.mark.parametrize("number", ["NaN", "Infinity"])
def test_a_decimal_nan_or_infinity_in_a_dict_is_refused_before_sending(
    sandbox: SandboxServer, number: str
) -> None:
    # An input object's Decimal field (ConciseRatesInput.kwhUsage) given in a dict.
    with (
        counted(sandbox.url) as (kraken, sent),
        pytest.raises(ConfigurationError, match="finite"),
    ):
        kraken.execute(
            "query getRatesForUsage($r: ConciseRatesInput) { productsWithConciseApplicableRates"
            " { rates(filterRatesBy: $r) { kwhUsage } } }",
            operation_name="getRatesForUsage",  # a public operation: no token request
            variables={"r": {"kwhUsage": Decimal(number)}},
        )
    assert sent == []


def test_an_aware_datetime_in_a_dict_is_sent_with_its_offset(sandbox: SandboxServer) -> None:
    # What the fix must keep: an aware datetime in a dict goes, offset and all.
    aware = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)
    dict_input: Any = {"availableAt": aware}
    with counted(sandbox.url) as (kraken, sent):
        kraken.get_rates_for_usage(kwh_usage=Decimal(1000), filter_products_by=dict_input)
    assert b'"availableAt":"2026-10-01T12:00:00Z"' in sent[-1].content or (
        b'"availableAt":"2026-10-01T12:00:00+00:00"' in sent[-1].content
    )


# -- update_metadata's value "takes what JSON holds" ---------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({1: "a", "1": "b"}, id="int-key-colliding-with-its-string"),
        pytest.param({"outer": [{None: "a", "null": "b"}]}, id="none-key-nested"),
        pytest.param({True: "on"}, id="bool-key"),
    ],
)
def test_metadata_with_a_key_json_has_not_is_refused_before_sending(
    sandbox: SandboxServer, value: Any
) -> None:
    # Before: json.dumps wrote 1 as "1" and None as "null", so {1: "a", "1": "b"} went as
    # {"1":"a","1":"b"} and the API kept one of the two values without a word.
    sent: list[httpx.Request] = []
    with (
        httpx.Client(trust_env=False, event_hooks={"request": [sent.append]}) as http,
        SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY), http_client=http) as k,
        pytest.raises(ConfigurationError, match="str keys"),
    ):
        k.update_metadata(
            linked_object_type=LinkedObjectType.ACCOUNT,
            identifier=DEMO_ACCOUNT_NUMBERS[0],
            key="k",
            value=value,
        )
    assert sent == []


def test_metadata_of_json_values_is_sent_and_read_back(sandbox: SandboxServer) -> None:
    value = {"a": [1, 2.5, None, True, {"b": "c"}], "": "empty key"}
    with SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken:
        result = kraken.update_metadata(
            linked_object_type=LinkedObjectType.ACCOUNT,
            identifier=DEMO_ACCOUNT_NUMBERS[0],
            key="k",
            value=value,
        )
    assert result.update_metadata is not None
    assert result.update_metadata.metadata is not None
    assert result.update_metadata.metadata.value == value
