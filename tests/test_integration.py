"""Both clients against the local Kraken sandbox, over real loopback HTTP.

Nothing here is mocked: the client's requests go through httpx to the sandbox server (a real
GraphQL server executing our schema, in a thread), which issues and checks real JWTs. Each test
runs once with KrakenClient and once with SyncKrakenClient (`kind`, see conftest.py); the
sandbox is reset before each test, and the client and the sandbox share `sandbox_clock`, so moving
it moves time for both. What the client sent is read from the sandbox's own counters.

Sandbox-only by nature (faults, moving time); tests/test_live.py runs a few of the same checks
against a real Kraken API when one is configured.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import AnyClient, SandboxClock, build_client, call, close_client

from oeus_kraken import (
    APIKey,
    APIStatusError,
    AuthenticationError,
    ConciseRatesInput,
    CreateQuoteInput,
    Credentials,
    ElectricityFiltersInput,
    ElectricityMeterPointConsumptionInput,
    EmailPassword,
    GetAccountBillsAccountBillsEdgesNodeStatementType,
    GetAccountLedgersAccountLedgersTransactions,
    GraphQLError,
    KrakenClient,
    KrakenError,
    KrakenFlexDeviceTypes,
    LinkedObjectType,
    LoadZone,
    MeasurementPageEdgesNodeIntervalMeasurementType,
    ObtainJSONWebTokenInput,
    OrganizationSecretKey,
    PermissionDeniedError,
    ProviderChoices,
    RateLimitError,
    ReadingFrequencyType,
    RefreshToken,
    ServiceProvider,
    SyncKrakenClient,
    UtilityFiltersInput,
    apaginate,
    paginate,
)
from oeus_kraken.sandbox import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_API_KEY,
    DEMO_EMAIL,
    DEMO_ORGANIZATION_SECRET_KEY,
    DEMO_PASSWORD,
    OTHER_ACCOUNT_NUMBER,
    SandboxServer,
)

TOKEN_LIFETIME = 3600  # what the sandbox gives an access token, like Kraken
INSIDE_REFRESH_MARGIN = TOKEN_LIFETIME - 120  # two minutes before expiry; the margin is 300 s

PRIMARY_CREDENTIALS: dict[str, Credentials] = {
    "organization_secret_key": OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY),
    "api_key": APIKey(DEMO_API_KEY),
    "email_password": EmailPassword(DEMO_EMAIL, DEMO_PASSWORD),
}
CREDENTIAL_KINDS = (*PRIMARY_CREDENTIALS, "refresh_token")

# Who each kind of credential is, as the token's claims and the viewer's accounts say.
GRANT_TYPES = {
    "organization_secret_key": "ORGANIZATION-SECRET-KEY",
    "api_key": "API-KEY",
    "email_password": "EMAIL-AND-PASSWORD",
    "refresh_token": "REFRESH-TOKEN",
}
DEMO_USER = "kraken|account-user:1001"
SUBJECTS = {
    "organization_secret_key": "kraken|organization:77",
    "api_key": DEMO_USER,
    "email_password": DEMO_USER,
    "refresh_token": DEMO_USER,  # obtained with the demo user's API key
}
EVERY_ACCOUNT = [*DEMO_ACCOUNT_NUMBERS, OTHER_ACCOUNT_NUMBER]
VIEWER_ACCOUNTS = {
    "organization_secret_key": EVERY_ACCOUNT,  # the sandbox's organisation viewer lists all
    "api_key": list(DEMO_ACCOUNT_NUMBERS),
    "email_password": list(DEMO_ACCOUNT_NUMBERS),
    "refresh_token": list(DEMO_ACCOUNT_NUMBERS),
}


class Traffic:
    """What the sandbox receives from the moment this object is made (its counters also hold
    whatever a fixture sent while setting up)."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self._sandbox = sandbox
        self._before = sandbox.stats

    def operations(self) -> dict[str, int]:
        """GraphQL requests by operation name."""
        now = self._sandbox.stats.operations
        counts = {name: n - self._before.count(name) for name, n in now.items()}
        return {name: n for name, n in counts.items() if n}

    @property
    def token_requests(self) -> int:
        """obtainKrakenToken executions, whatever the operation was called."""
        return self._sandbox.stats.token_requests - self._before.token_requests


@pytest.fixture
def connect(
    make_client: Callable[..., AnyClient], sandbox: SandboxServer, sandbox_clock: SandboxClock
) -> Callable[..., AnyClient]:
    """A client of the current kind for the sandbox, on the sandbox's clock."""

    def connect(credentials: Credentials | None = None, **options: Any) -> AnyClient:
        return make_client(url=sandbox.url, credentials=credentials, clock=sandbox_clock, **options)

    return connect


async def refresh_token_from_a_first_client(kind: str, sandbox: SandboxServer) -> str:
    """A refresh token as a user gets one: from a token request made with another client."""
    first = build_client(kind, url=sandbox.url)
    try:
        token_input = ObtainJSONWebTokenInput.model_validate(APIKey(DEMO_API_KEY).token_variables())
        result = await call(first, "get_kraken_token", input=token_input)
    finally:
        await close_client(first)
    refresh_token: str = result.obtain_kraken_token.refresh_token
    assert refresh_token
    return refresh_token


@pytest.fixture(params=CREDENTIAL_KINDS)
def credential_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def credentials(credential_kind: str, kind: str, sandbox: SandboxServer) -> Credentials:
    if credential_kind == "refresh_token":
        return RefreshToken(await refresh_token_from_a_first_client(kind, sandbox))
    return PRIMARY_CREDENTIALS[credential_kind]


def first_token_operation(credential_kind: str) -> str:
    """A RefreshToken client's first token comes from its refresh token."""
    return "refreshKrakenToken" if credential_kind == "refresh_token" else "getKrakenToken"


async def viewer_accounts(client: AnyClient) -> list[str]:
    viewer = (await call(client, "get_viewer")).viewer
    assert viewer is not None
    return [account.number for account in viewer.accounts or [] if account is not None]


# -- the token lifecycle, for each kind of credential --------------------------------------------


async def test_the_first_call_obtains_a_token_which_later_calls_reuse(
    connect: Callable[..., AnyClient],
    sandbox: SandboxServer,
    credential_kind: str,
    credentials: Credentials,
) -> None:
    traffic = Traffic(sandbox)
    client = connect(credentials)
    assert traffic.operations() == {}  # nothing is sent before the first call

    assert await viewer_accounts(client) == VIEWER_ACCOUNTS[credential_kind]
    assert await viewer_accounts(client) == VIEWER_ACCOUNTS[credential_kind]

    assert traffic.operations() == {first_token_operation(credential_kind): 1, "getViewer": 2}
    info = await call(client, "authenticate")
    assert info.claims["sub"] == SUBJECTS[credential_kind]
    assert info.claims["gty"] == GRANT_TYPES[credential_kind]
    assert info.expires_at is not None
    assert info.expires_at.timestamp() == info.claims["exp"]
    assert traffic.token_requests == 1  # authenticate() used the token held


async def test_a_token_inside_the_refresh_margin_is_refreshed_once_with_the_refresh_token(
    connect: Callable[..., AnyClient],
    sandbox: SandboxServer,
    sandbox_clock: SandboxClock,
    credential_kind: str,
    credentials: Credentials,
) -> None:
    sandbox_clock.freeze()  # time moves only when the test says
    client = connect(credentials)
    first = await call(client, "authenticate")
    traffic = Traffic(sandbox)

    sandbox_clock.advance(INSIDE_REFRESH_MARGIN)
    for _ in range(3):
        assert await viewer_accounts(client) == VIEWER_ACCOUNTS[credential_kind]

    assert traffic.operations() == {"refreshKrakenToken": 1, "getViewer": 3}
    refreshed = await call(client, "authenticate")
    assert refreshed.token != first.token
    assert refreshed.claims["sub"] == first.claims["sub"]
    assert refreshed.claims["gty"] == "REFRESH-TOKEN"
    assert refreshed.claims["exp"] == first.claims["exp"] + INSIDE_REFRESH_MARGIN
    assert traffic.token_requests == 1


async def test_a_token_the_api_rejects_as_expired_is_replaced_and_the_call_retried_once(
    connect: Callable[..., AnyClient],
    sandbox: SandboxServer,
    credential_kind: str,
    credentials: Credentials,
) -> None:
    client = connect(credentials)
    await call(client, "authenticate")
    sandbox.expire_tokens()  # the API now answers KT-CT-1124 for that token, before its exp
    traffic = Traffic(sandbox)

    assert await viewer_accounts(client) == VIEWER_ACCOUNTS[credential_kind]

    # The rejected call, one new token (an expired signature is what the refresh token cures),
    # and the call once more.
    assert traffic.operations() == {"getViewer": 2, "refreshKrakenToken": 1}
    # The new token serves the next call as is.
    assert await viewer_accounts(client) == VIEWER_ACCOUNTS[credential_kind]
    assert traffic.operations() == {"getViewer": 3, "refreshKrakenToken": 1}


@pytest.mark.parametrize("credential_name", PRIMARY_CREDENTIALS)
async def test_a_revoked_refresh_token_falls_back_to_the_primary_credential(
    connect: Callable[..., AnyClient],
    sandbox: SandboxServer,
    sandbox_clock: SandboxClock,
    credential_name: str,
) -> None:
    client = connect(PRIMARY_CREDENTIALS[credential_name])
    await call(client, "authenticate")
    sandbox.revoke_refresh_tokens()  # the API now answers KT-CT-1135 for it
    traffic = Traffic(sandbox)

    sandbox_clock.advance(INSIDE_REFRESH_MARGIN)
    assert await viewer_accounts(client) == VIEWER_ACCOUNTS[credential_name]

    assert traffic.operations() == {"refreshKrakenToken": 1, "getKrakenToken": 1, "getViewer": 1}
    info = await call(client, "authenticate")
    assert info.claims["gty"] == GRANT_TYPES[credential_name]  # a new login, not a refresh


async def test_a_refresh_token_only_client_raises_authentication_error_once_it_is_revoked(
    connect: Callable[..., AnyClient],
    sandbox: SandboxServer,
    sandbox_clock: SandboxClock,
    kind: str,
) -> None:
    client = connect(RefreshToken(await refresh_token_from_a_first_client(kind, sandbox)))
    await call(client, "authenticate")
    sandbox.revoke_refresh_tokens()
    sandbox_clock.advance(TOKEN_LIFETIME + 1)  # the access token has expired too
    traffic = Traffic(sandbox)

    with pytest.raises(AuthenticationError, match="refresh token"):
        await call(client, "get_viewer")
    with pytest.raises(AuthenticationError):
        await call(client, "get_viewer")

    # One refresh attempt; nothing else to try, and nothing sent for the data call.
    assert traffic.operations() == {"refreshKrakenToken": 1}


@pytest.mark.parametrize(
    ("bad_credentials", "error_code"),
    [
        (OrganizationSecretKey("sk_test_org_not_a_key"), "KT-CT-1140"),
        (APIKey("sk_test_not_a_key"), "KT-CT-1139"),
        (EmailPassword(DEMO_EMAIL, "not-the-password"), "KT-CT-1138"),
        pytest.param(
            RefreshToken("not-a-refresh-token"),
            "KT-CT-1135",
        ),
    ],
    ids=["organization_secret_key", "api_key", "email_password", "refresh_token"],
)
async def test_bad_credentials_raise_authentication_error_with_the_code_and_are_not_retried(
    connect: Callable[..., AnyClient],
    sandbox: SandboxServer,
    bad_credentials: Credentials,
    error_code: str,
) -> None:
    traffic = Traffic(sandbox)
    client = connect(bad_credentials)

    with pytest.raises(AuthenticationError) as raised:
        await call(client, "get_viewer")
    assert raised.value.error_code == error_code
    assert raised.value.operation_name in ("getKrakenToken", "refreshKrakenToken")

    with pytest.raises(AuthenticationError) as again:
        await call(client, "get_viewer")
    assert again.value.error_code == error_code
    # One token request in all: rejected credentials are not tried again at once, and the data
    # call was never sent.
    assert traffic.token_requests == 1
    assert "getViewer" not in traffic.operations()


# -- pagination ----------------------------------------------------------------------------------


async def transactions(client: AnyClient, account_number: str, **options: Any) -> list[Any]:
    """Every transaction of the account's first ledger: `paginate` for the sync client,
    `apaginate` for the async one."""

    def page(result: Any) -> GetAccountLedgersAccountLedgersTransactions | None:
        account = result.account
        if account is None or not account.ledgers or account.ledgers[0] is None:
            return None
        return account.ledgers[0].transactions

    if isinstance(client, KrakenClient):
        kraken = client

        async def fetch(first: int, after: str | None) -> Any:
            return page(await kraken.get_account_ledgers(account_number, first=first, after=after))

        return [node async for node in apaginate(fetch, **options)]
    assert isinstance(client, SyncKrakenClient)
    sync_kraken = client
    return list(
        paginate(
            lambda first, after: page(
                sync_kraken.get_account_ledgers(account_number, first=first, after=after)
            ),
            **options,
        )
    )


async def test_pagination_yields_all_57_transactions_once_in_6_pages_of_10(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    client = connect(APIKey(DEMO_API_KEY))
    traffic = Traffic(sandbox)

    nodes = await transactions(client, DEMO_ACCOUNT_NUMBERS[0], page_size=10)

    ids = [node.id for node in nodes]
    assert len(ids) == 57
    assert len(set(ids)) == 57
    assert traffic.operations() == {"getKrakenToken": 1, "getAccountLedgers": 6}


async def test_pagination_stops_after_max_pages(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    client = connect(APIKey(DEMO_API_KEY))
    everything = await transactions(client, DEMO_ACCOUNT_NUMBERS[0], page_size=10)
    traffic = Traffic(sandbox)

    capped = await transactions(client, DEMO_ACCOUNT_NUMBERS[0], page_size=10, max_pages=2)

    assert [node.id for node in capped] == [node.id for node in everything[:20]]
    assert traffic.operations() == {"getAccountLedgers": 2}


# -- public operations ---------------------------------------------------------------------------


async def test_public_operations_work_without_credentials_and_request_no_token(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    traffic = Traffic(sandbox)
    client = connect(None)

    products = (await call(client, "get_products")).products
    assert "OCTOPUS-12M-FIXED" in [p.code for p in products if p is not None]
    tdsps = (await call(client, "get_tdsp_by_postal_code", postal_code="75001")).tdsp_by_postalcode
    assert [(t.service_provider, t.load_zone.value) for t in tdsps] == [
        (ServiceProvider.ONCOR, "LZ_NORTH")
    ]
    rates = await call(
        client,
        "get_products_with_rates",
        filter_rates_by=ConciseRatesInput(service_provider=ServiceProvider.ONCOR),
    )
    offered = [p for p in rates.products_with_concise_applicable_rates if p is not None]
    assert offered
    for product in offered:
        assert [r.service_provider for r in product.rates] == [ServiceProvider.ONCOR]

    assert traffic.operations() == {
        "getProducts": 1,
        "getTdspByPostalCode": 1,
        "getProductsWithRates": 1,
    }
    assert traffic.token_requests == 0


async def test_public_operations_request_no_token_even_with_credentials(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    traffic = Traffic(sandbox)
    client = connect(APIKey(DEMO_API_KEY))
    await call(client, "get_products")
    assert traffic.operations() == {"getProducts": 1}


async def test_a_protected_operation_without_credentials_raises_before_sending_anything(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    traffic = Traffic(sandbox)
    client = connect(None)
    with pytest.raises(AuthenticationError, match="no credentials"):
        await call(client, "get_viewer")
    assert traffic.operations() == {}


# -- errors --------------------------------------------------------------------------------------


async def test_another_users_account_is_permission_denied_with_kt_ct_4177(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    client = connect(APIKey(DEMO_API_KEY))
    traffic = Traffic(sandbox)

    with pytest.raises(PermissionDeniedError) as raised:
        await call(client, "get_account", account_number=OTHER_ACCOUNT_NUMBER)

    error = raised.value
    assert isinstance(error, GraphQLError)
    assert not isinstance(error, AuthenticationError)
    assert error.error_code == "KT-CT-4177"
    assert error.operation_name == "getAccount"
    assert error.data == {"account": None}
    # The token is fine: it is neither replaced nor the call repeated.
    assert traffic.operations() == {"getKrakenToken": 1, "getAccount": 1}


async def test_a_502_html_page_is_an_api_status_error_not_a_generated_client_exception(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    client = connect(None, max_retries=0)
    sandbox.set_faults(bad_gateway=1)

    with pytest.raises(KrakenError) as raised:
        await call(client, "get_products")

    error = raised.value
    assert type(error) is APIStatusError
    assert error.status_code == 502
    assert error.operation_name == "getProducts"
    assert "502" in str(error)
    assert await call(client, "get_products")  # the fault is used up; the client still works


async def test_a_single_502_on_a_query_is_retried(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    client = connect(None)  # default retries
    sandbox.set_faults(bad_gateway=1)
    traffic = Traffic(sandbox)

    assert (await call(client, "get_products")).products

    assert traffic.operations() == {"getProducts": 2}


async def test_a_rate_limited_token_request_is_rate_limit_error_not_authentication_error(
    connect: Callable[..., AnyClient], sandbox: SandboxServer, sandbox_clock: SandboxClock
) -> None:
    client = connect(APIKey(DEMO_API_KEY), max_retries=0)
    sandbox.set_faults(token_rate_limit=1)
    traffic = Traffic(sandbox)

    with pytest.raises(RateLimitError) as raised:
        await call(client, "get_viewer")
    assert not isinstance(raised.value, AuthenticationError)
    assert raised.value.error_code == "KT-CT-1199"
    # Not asked again straight away ...
    with pytest.raises(RateLimitError):
        await call(client, "get_viewer")
    assert traffic.token_requests == 1

    # ... but once the backoff has passed, the same credentials work.
    sandbox_clock.advance(61)
    assert await viewer_accounts(client) == list(DEMO_ACCOUNT_NUMBERS)
    assert traffic.operations() == {"getKrakenToken": 2, "getViewer": 1}


# -- one token request, however many callers ---------------------------------------------------


async def test_50_concurrent_async_calls_on_a_fresh_client_make_one_token_request(
    sandbox: SandboxServer,
) -> None:
    sandbox.set_faults(delay=0.05)  # every answer takes a while: the callers really overlap
    traffic = Traffic(sandbox)
    async with KrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as client:
        results = await asyncio.gather(*(client.get_viewer() for _ in range(50)))

    assert all(r.viewer is not None and r.viewer.email == DEMO_EMAIL for r in results)
    assert traffic.operations() == {"getKrakenToken": 1, "getViewer": 50}


def test_20_threads_on_a_fresh_sync_client_make_one_token_request(sandbox: SandboxServer) -> None:
    sandbox.set_faults(delay=0.05)
    traffic = Traffic(sandbox)
    start = threading.Barrier(20)

    with SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as client:

        def viewer_email() -> str | None:
            start.wait(timeout=10)
            viewer = client.get_viewer().viewer
            return viewer.email if viewer is not None else None

        with ThreadPoolExecutor(max_workers=20) as pool:
            emails = list(pool.map(lambda _: viewer_email(), range(20)))

    assert emails == [DEMO_EMAIL] * 20
    assert traffic.operations() == {"getKrakenToken": 1, "getViewer": 20}


# -- the US surface, through both clients (the sandbox's own specs are in test_sandbox.py) --------

HOME_PROPERTY, HOME_ESI_ID = "5101", "10443720004512388"
WHOLESALE_ESI_ID = "10089010023806217"


@pytest.mark.slow
async def test_every_us_operation_answers_through_the_client(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    client = connect(OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY))
    account = DEMO_ACCOUNT_NUMBERS[0]
    day = {"start_on": date(2026, 3, 8), "end_on": date(2026, 3, 8)}

    usage = await call(client, "get_measurements", account_number=account, first=100, **day)
    [home] = usage.account.properties
    assert home.electricity_meter_points[0].mpan == HOME_ESI_ID
    assert home.measurements.total_count == 92  # spring forward
    interval = home.measurements.edges[0].node
    assert isinstance(interval, MeasurementPageEdgesNodeIntervalMeasurementType)
    assert interval.duration_in_seconds == 900
    assert isinstance(interval.value, Decimal)
    assert interval.start_at == datetime(2026, 3, 8, tzinfo=ZoneInfo("America/Chicago"))
    one = await call(
        client,
        "get_property_measurements",
        property_id=HOME_PROPERTY,
        first=10,
        utility_filters=[
            UtilityFiltersInput(
                electricity_filters=ElectricityFiltersInput(
                    reading_frequency_type=ReadingFrequencyType.DAY_INTERVAL
                )
            )
        ],
        **day,
    )
    [total] = one.property_.measurements.edges  # `property` is a builtin: codegen adds _
    assert total.node.duration_in_seconds == 23 * 3600
    window = {
        "from_datetime": datetime(2026, 8, 3, tzinfo=ZoneInfo("America/Chicago")),
        "to_datetime": datetime(2026, 8, 4, tzinfo=ZoneInfo("America/Chicago")),
    }
    readings = await call(
        client,
        "get_interval_readings",
        account_number=DEMO_ACCOUNT_NUMBERS[1],
        esi_id=WHOLESALE_ESI_ID,
        **window,
    )
    assert len(readings.interval_readings) == 96
    assert all(isinstance(r.price, Decimal) for r in readings.interval_readings)
    daily = await call(
        client, "get_daily_readings", account_number=account, esi_id=HOME_ESI_ID, **window
    )
    [reading] = daily.daily_readings
    assert reading.daily_usage > 0

    [premise] = (await call(client, "lookup_address_by_esi_id", esi_id=HOME_ESI_ID)).address_lookup
    assert (premise.service_provider, premise.load_zone) == (
        ServiceProvider.ONCOR,
        LoadZone.LZ_NORTH,
    )
    building = await call(
        client, "lookup_address_by_street_address", address="1100 Louisiana St", post_code="77002"
    )
    assert len(building.address_lookup) == 3

    quote = await call(
        client,
        "create_quote",
        input=CreateQuoteInput(
            postcode="75201",
            brand_code="OCTOPUS_ENERGY_USA",
            electricity_meter_points=[
                ElectricityMeterPointConsumptionInput(
                    mpan=HOME_ESI_ID, is_estimate=False, annual_consumption_standard=14000
                )
            ],
        ),
    )
    quoted = quote.create_quote.quote.quoted_products
    assert quoted
    assert all(q.estimated_details.kwh_usage == 14000 for q in quoted)
    own = await call(client, "create_customer_quote", account_number=account)
    assert own.customer_create_quote.quote.postcode == "75201"

    payments = await call(client, "get_account_payments", account_number=account, first=5)
    assert payments.account.payments.total_count == 24
    assert all(type(e.node.amount) is int for e in payments.account.payments.edges)
    bills = await call(client, "get_account_bills", account_number=account, first=3)
    statement = bills.account.bills.edges[0].node
    assert isinstance(statement, GetAccountBillsAccountBillsEdgesNodeStatementType)
    assert type(statement.closing_balance) is int

    stored = await call(
        client,
        "update_metadata",
        linked_object_type=LinkedObjectType.ACCOUNT,
        identifier=account,
        key="affiliate",
        value={"ref": 12},
    )
    assert stored.update_metadata.metadata.value == {"ref": 12}
    token = await call(
        client,
        "create_smart_device_token",
        account_number=account,
        device_type=KrakenFlexDeviceTypes.THERMOSTATS,
        device_vendor=ProviderChoices.ECOBEE,
    )
    state = token.create_smart_device_token.state
    acquired = await call(
        client, "acquire_oauth_tokens", account_number=account, auth_code="code", state=state
    )
    assert acquired.acquire_oauth_tokens.tokens_acquired is True

    budget = (await call(client, "get_rate_limit_info")).rate_limit_info.points_allowance_rate_limit
    assert budget.limit == 100_000
    assert 0 < budget.used_points < 1000


async def test_the_public_us_operations_request_no_token(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    traffic = Traffic(sandbox)
    client = connect(APIKey(DEMO_API_KEY))

    discount = (await call(client, "get_fan_club_discount")).get_fan_club_discount
    assert discount.discount_amount in (Decimal("0.0"), Decimal("0.2"), Decimal("0.5"))
    for method, kwargs in (
        ("get_rates_for_esi_id", {"esi_id": HOME_ESI_ID, "kwh_usage": Decimal("1500")}),
        ("get_rates_for_service_provider", {"service_provider": ServiceProvider.TNMP}),
        ("get_rates_for_load_zone", {"load_zone": LoadZone.LZ_SOUTH}),
        ("get_rates_for_usage", {"kwh_usage": Decimal("500")}),
    ):
        products = (await call(client, method, **kwargs)).products_with_concise_applicable_rates
        assert products, method
        assert all(rate.total_applicable_rate > 0 for p in products for rate in p.rates)

    assert traffic.token_requests == 0


async def test_us_permission_and_cap_refusals_raise_typed_errors_and_are_not_retried(
    connect: Callable[..., AnyClient], sandbox: SandboxServer
) -> None:
    client = connect(APIKey(DEMO_API_KEY))
    traffic = Traffic(sandbox)

    with pytest.raises(PermissionDeniedError) as denied:
        await call(client, "lookup_address_by_esi_id", esi_id=HOME_ESI_ID)
    assert denied.value.error_code == "KT-CT-1111"
    with pytest.raises(GraphQLError) as too_big:
        await call(client, "get_measurements", account_number=DEMO_ACCOUNT_NUMBERS[0], first=101)
    assert too_big.value.error_code == "KT-CT-1201"

    assert traffic.operations() == {
        "getKrakenToken": 1,
        "lookupAddressByEsiId": 1,
        "getMeasurements": 1,
    }

    organization = connect(OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY))
    with pytest.raises(GraphQLError) as complex_:
        await call(organization, "get_measurements", account_number=OTHER_ACCOUNT_NUMBER, first=100)
    assert complex_.value.error_code == "KT-CT-1188"
    assert traffic.operations()["getMeasurements"] == 2  # sent once
