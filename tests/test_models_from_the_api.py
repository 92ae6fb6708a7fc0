"""The generated models against what the API sends, seen from outside: every documented US
operation answered by the sandbox parses into its model, and that model survives
`model_dump(by_alias=True)` -> `model_validate` (and the JSON twin) unchanged; each method's
parameters are the operation's variables, required exactly where the schema requires them; a
model holding a token, password or key shows none of them in repr or str.

(Unknown enum values are in test_faults.py; scalars at their edges in test_scalars_edges.py.)
"""

from __future__ import annotations

import functools
import inspect
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import graphql
import pytest
from auth_helpers import FakeKraken
from conftest import SandboxClock, call

from oeus_kraken import (
    ConciseRatesInput,
    CreateQuoteInput,
    ElectricityMeterPointConsumptionInput,
    GetKrakenToken,
    InvalidResponseError,
    KrakenClient,
    KrakenFlexDeviceTypes,
    LinkedObjectType,
    LoadZone,
    ObtainJSONWebTokenInput,
    OrganizationSecretKey,
    ProductInput,
    ProviderChoices,
    ServiceProvider,
    SyncKrakenClient,
)
from oeus_kraken.sandbox import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_ORGANIZATION_SECRET_KEY,
    SandboxServer,
)
from oeus_kraken.unset import UNSET

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = DEMO_ACCOUNT_NUMBERS[0]
ESI_ID, PROPERTY_ID = "10443720004512388", "5101"
CHICAGO = ZoneInfo("America/Chicago")
DAY = {
    "from_datetime": datetime(2026, 8, 3, tzinfo=CHICAGO),
    "to_datetime": datetime(2026, 8, 4, tzinfo=CHICAGO),
}

# Every operation method, with arguments the sandbox answers with data (the refresh token and
# the smart-device `state` are filled in from earlier answers).
CALLS: dict[str, dict[str, Any]] = {
    "get_kraken_token": {
        "input": ObtainJSONWebTokenInput(organization_secret_key=DEMO_ORGANIZATION_SECRET_KEY)
    },
    "refresh_kraken_token": {},
    "get_viewer": {},
    "get_account": {"account_number": ACCOUNT},
    "get_account_ledgers": {"account_number": ACCOUNT, "first": 5},
    "get_measurements": {
        "account_number": ACCOUNT,
        "first": 10,
        "start_on": date(2026, 3, 8),
        "end_on": date(2026, 3, 8),
    },
    "get_property_measurements": {"property_id": PROPERTY_ID, "first": 10},
    "get_interval_readings": {"account_number": ACCOUNT, "esi_id": ESI_ID, **DAY},
    "get_daily_readings": {"account_number": ACCOUNT, "esi_id": ESI_ID, **DAY},
    "lookup_address_by_esi_id": {"esi_id": ESI_ID},
    "lookup_address_by_street_address": {"address": "1100 Louisiana St", "post_code": "77002"},
    "get_products": {"available_at": datetime(2026, 1, 1, tzinfo=CHICAGO)},
    "get_products_with_rates": {
        "filter_products_by": ProductInput(based_on_time_of_use=False),
        "filter_rates_by": ConciseRatesInput(
            load_zone=LoadZone.LZ_NORTH, kwh_usage=Decimal("1234.5")
        ),
    },
    "get_rates_for_esi_id": {"esi_id": ESI_ID, "kwh_usage": Decimal("2000")},
    "get_rates_for_service_provider": {"service_provider": ServiceProvider.ONCOR},
    "get_rates_for_load_zone": {"load_zone": LoadZone.LZ_HOUSTON},
    "get_rates_for_usage": {"kwh_usage": Decimal("500")},
    "get_tdsp_by_postal_code": {"postal_code": "75001"},
    "create_quote": {
        "input": CreateQuoteInput(
            postcode="75201",
            brand_code="OCTOPUS_ENERGY_USA",
            electricity_meter_points=[
                ElectricityMeterPointConsumptionInput(
                    mpan=ESI_ID, is_estimate=False, annual_consumption_standard=14000
                )
            ],
        )
    },
    "create_customer_quote": {"account_number": ACCOUNT},
    "get_account_payments": {"account_number": ACCOUNT, "first": 3},
    "get_account_bills": {"account_number": ACCOUNT, "first": 3},
    "update_metadata": {
        "linked_object_type": LinkedObjectType.ACCOUNT,
        "identifier": ACCOUNT,
        "key": "affiliate",
        "value": {"ref": 12, "tags": ["a"]},
    },
    "create_smart_device_token": {
        "account_number": ACCOUNT,
        "device_type": KrakenFlexDeviceTypes.THERMOSTATS,
        "device_vendor": ProviderChoices.ECOBEE,
    },
    "acquire_oauth_tokens": {"account_number": ACCOUNT, "auth_code": "code"},
    "get_fan_club_discount": {},
    "get_rate_limit_info": {},
    "get_product_rates_for_esi_id": {"esi_id": ESI_ID},
    "get_efl_rates_for_esi_id": {"esi_id": ESI_ID},
    "get_account_agreements": {"account_number": ACCOUNT},
}


def operation_methods(client: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in vars(client).items()
        if inspect.isfunction(member) and not name.startswith("_") and name != "parse_result"
    }


def test_the_table_names_every_operation_method_of_both_clients() -> None:
    for client in (KrakenClient, SyncKrakenClient):
        assert set(operation_methods(client)) == set(CALLS), client.__name__


@pytest.fixture(scope="module")
def answers(_sandbox_server: SandboxServer, sandbox_clock: SandboxClock) -> dict[str, Any]:
    """Every operation's answer, once: the sandbox is asked each in turn."""
    key = OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)
    results: dict[str, Any] = {}
    with SyncKrakenClient(_sandbox_server.url, credentials=key, clock=sandbox_clock) as kraken:
        for method, arguments in CALLS.items():
            if method == "refresh_kraken_token":
                refresh = results["get_kraken_token"].obtain_kraken_token.refresh_token
                arguments = {"input": ObtainJSONWebTokenInput(refresh_token=refresh)}
            if method == "acquire_oauth_tokens":
                state = results["create_smart_device_token"].create_smart_device_token.state
                arguments = {**arguments, "state": state}
            results[method] = getattr(kraken, method)(**arguments)
    return results


@pytest.mark.parametrize("method", CALLS)
def test_each_answer_survives_a_round_trip_through_its_dump_by_alias(
    answers: dict[str, Any], method: str
) -> None:
    result = answers[method]
    model = type(result)
    assert result.model_dump(exclude_none=True), f"{method}: the sandbox answered no data"
    assert model.model_validate(result.model_dump(by_alias=True)) == result
    assert model.model_validate_json(result.model_dump_json(by_alias=True)) == result


@pytest.mark.parametrize("method", ["get_kraken_token", "refresh_kraken_token"])
def test_a_token_answer_shows_neither_token_in_repr_or_str(
    answers: dict[str, Any], method: str
) -> None:
    result = answers[method]
    issued = result.obtain_kraken_token
    secrets = [issued.token, issued.refresh_token]
    for shown in (repr(result), str(result), repr(issued), str(issued), f"{[result]}"):
        assert not any(secret in shown for secret in secrets)
    # The values themselves are there for the client (and a caller) to read.
    assert all(isinstance(secret, str) and secret for secret in secrets)
    assert result.model_dump()["obtain_kraken_token"]["token"] == issued.token


def test_a_token_request_input_shows_none_of_its_credentials_in_repr_or_str() -> None:
    secrets = {
        "password": "pw-1",
        "api_key": "ak-2",
        "organization_secret_key": "osk-3",
        "pre_signed_key": "psk-4",
        "refresh_token": "rt-5",
    }
    sent = ObtainJSONWebTokenInput(email="me@example.com", **secrets)
    nested = GetKrakenToken.model_validate(
        {
            "obtainKrakenToken": {
                "token": "t-6",
                "payload": {},
                "refreshToken": "rt-7",
                "refreshExpiresIn": 1,
            }
        }
    )
    for shown in (repr(sent), str(sent), repr([sent, {"x": sent}]), repr(nested), str(nested)):
        assert not any(value in shown for value in [*secrets.values(), "t-6", "rt-7"])
    assert "me@example.com" in repr(sent)  # only the secrets are hidden


# -- each method's parameters are the operation's variables -----------------------------------


@functools.cache
def operations() -> dict[str, graphql.OperationDefinitionNode]:
    found: dict[str, graphql.OperationDefinitionNode] = {}
    for path in sorted((ROOT / "queries").glob("*.graphql")):
        for definition in graphql.parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(definition, graphql.OperationDefinitionNode) and definition.name:
                found[definition.name.value] = definition
    return found


def snake(name: str) -> str:
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    return "".join(
        f"_{c}" if c.isdigit() and out[i - 1 : i].isalpha() else c for i, c in enumerate(out)
    )


def schema_parameters(operation: graphql.OperationDefinitionNode) -> dict[str, bool]:
    """Each variable's Python name, and whether the schema requires it (non-null, no default)."""
    return {
        snake(variable.variable.name.value): isinstance(variable.type, graphql.NonNullTypeNode)
        and variable.default_value is None
        for variable in operation.variable_definitions
    }


@pytest.mark.parametrize("client", [KrakenClient, SyncKrakenClient])
@pytest.mark.parametrize("method", CALLS)
def test_a_methods_parameters_are_its_variables_required_exactly_where_the_schema_says(
    client: type, method: str
) -> None:
    function = operation_methods(client)[method]
    [operation] = [operation for name, operation in operations().items() if snake(name) == method]
    parameters = {
        name: parameter.default is inspect.Parameter.empty
        for name, parameter in inspect.signature(function).parameters.items()
        if name != "self" and parameter.kind is not inspect.Parameter.VAR_KEYWORD
    }
    assert parameters == schema_parameters(operation)
    optional = [
        p.default
        for p in inspect.signature(function).parameters.values()
        if p.default is not p.empty
    ]
    assert all(default is UNSET for default in optional)  # not given: not sent at all


# -- answers shaped otherwise than the schema said ------------------------------------------------

KEY = OrganizationSecretKey("sk_test_models")


def agreements(**agreement: object) -> dict[str, Any]:
    base = {
        "id": 1,
        "validFrom": None,
        "validTo": None,
        "meterPoint": {"mpan": ESI_ID},
        "tariff": None,
    }
    return {
        "data": {"account": {"number": ACCOUNT, "electricityAgreements": [{**base, **agreement}]}}
    }


async def test_fields_the_api_adds_are_ignored_at_every_level(
    make_client: Any, fake_kraken: FakeKraken
) -> None:
    answer = agreements(meterPoint={"mpan": ESI_ID, "addedLater": [1]}, addedToo={"x": None})
    answer["data"]["account"]["addedHere"] = "new"
    answer["data"]["addedAtTheRoot"] = 1
    answer["extensions"] = {"cost": 5}
    fake_kraken.answer_token()
    fake_kraken.answer("getAccountAgreements", answer)
    result = await call(
        make_client(credentials=KEY), "get_account_agreements", account_number=ACCOUNT
    )
    [agreement] = result.account.electricity_agreements
    assert agreement.meter_point.mpan == ESI_ID
    assert "addedLater" not in result.model_dump_json(by_alias=True)


async def test_a_null_where_the_schema_says_non_null_is_an_invalid_response_naming_the_field(
    make_client: Any, fake_kraken: FakeKraken
) -> None:
    fake_kraken.answer_token()
    fake_kraken.answer(
        "getAccountAgreements", agreements(meterPoint={"mpan": None}, validFrom="sk_live_x")
    )
    client = make_client(credentials=KEY)
    with pytest.raises(InvalidResponseError) as raised:
        await call(client, "get_account_agreements", account_number=ACCOUNT)
    message = str(raised.value)
    assert "electricityAgreements.0.meterPoint.mpan" in message
    assert "electricityAgreements.0.validFrom" in message
    assert "sk_live_x" not in message  # the values are not quoted: they could be secrets
