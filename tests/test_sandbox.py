"""The local Kraken sandbox (oeus_kraken.sandbox), specified with raw HTTP requests.

One server runs for the whole module (building the executable schema takes a second or two); an
autouse fixture resets its faults, counters, tokens and clock before each test. Requests go
through plain httpx, not through our client, so these tests pin down what the server does; one
smoke test at the end drives it with SyncKrakenClient.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import graphql
import httpx
import jwt
import pytest
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
    is_object_type,
    is_required_argument,
)

import oeus_kraken
from oeus_kraken.sandbox import (
    DEFAULT_REFRESH_TOKEN_LIFETIME,
    DEMO_ACCOUNT_NUMBERS,
    DEMO_API_KEY,
    DEMO_EMAIL,
    DEMO_ORGANIZATION_SECRET_KEY,
    DEMO_PASSWORD,
    GAP_INTERVALS,
    GAP_START,
    LATE_DELAY,
    OTHER_ACCOUNT_NUMBER,
    OTHER_EMAIL,
    OTHER_PASSWORD,
    POINTS_PER_HOUR,
    SANDBOX_ISSUER,
    SANDBOX_SIGNING_KEY,
    SEEDED_LATE_SHARE,
    SandboxServer,
    executable_schema,
    schema_path,
    serve,
)

TOKEN_MUTATION = """
mutation getKrakenToken($input: ObtainJSONWebTokenInput!) {
  obtainKrakenToken(input: $input) { token payload refreshToken refreshExpiresIn }
}
"""
VIEWER_QUERY = "query getViewer { viewer { id email accounts { number } } }"
ACCOUNT_QUERY = "query getAccount($n: String!) { account(accountNumber: $n) { number balance } }"
TRANSACTIONS_QUERY = """
query getAccountLedgers($n: String!, $first: Int, $after: String, $last: Int, $before: String) {
  account(accountNumber: $n) {
    ledgers {
      transactions(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edgeCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges {
          cursor
          node { __typename id postedDate createdAt title amounts { net tax gross } }
        }
      }
    }
  }
}
"""


class Clock:
    """The server's clock: real time (or the instant it was frozen at) plus an offset a test
    can move."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen_at: float | None = None

    def __call__(self) -> float:
        return (time.time() if self.frozen_at is None else self.frozen_at) + self.offset

    def freeze(self) -> None:
        self.frozen_at = time.time()

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def server(clock: Clock) -> Iterator[SandboxServer]:
    with SandboxServer(clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh_server(request: pytest.FixtureRequest, clock: Clock) -> None:
    clock.offset, clock.frozen_at = 0.0, None
    if "server" in request.fixturenames:
        request.getfixturevalue("server").reset()


# -- helpers -------------------------------------------------------------------------------------


def post(
    http: httpx.Client,
    server: SandboxServer,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    authorization: str | None = None,
) -> dict[str, Any]:
    """A GraphQL POST; Kraken answers errors too with HTTP 200."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = http.post(server.url, json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str | None]:
    return [e.get("extensions", {}).get("errorCode") for e in body.get("errors", [])]


def obtain(http: httpx.Client, server: SandboxServer, **fields: str) -> dict[str, Any]:
    return post(http, server, TOKEN_MUTATION, {"input": fields})


def token_for(http: httpx.Client, server: SandboxServer, **fields: str) -> dict[str, Any]:
    body = obtain(http, server, **fields)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["obtainKrakenToken"]
    return result


def org_token(http: httpx.Client, server: SandboxServer) -> str:
    token: str = token_for(http, server, organizationSecretKey=DEMO_ORGANIZATION_SECRET_KEY)[
        "token"
    ]
    return token


def decode(token: str) -> dict[str, Any]:
    """The verified claims (signature and issuer; times are the server's business, and tests
    move its clock)."""
    claims: dict[str, Any] = jwt.decode(
        token,
        SANDBOX_SIGNING_KEY,
        algorithms=["HS256"],
        issuer=SANDBOX_ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    return claims


# -- obtaining and refreshing tokens -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "subject", "grant_type"),
    [
        (
            {"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
            "kraken|account-user:1001",
            "EMAIL-AND-PASSWORD",
        ),
        ({"APIKey": DEMO_API_KEY}, "kraken|account-user:1001", "API-KEY"),
        (
            {"organizationSecretKey": DEMO_ORGANIZATION_SECRET_KEY},
            "kraken|organization:77",
            "ORGANIZATION-SECRET-KEY",
        ),
    ],
    ids=["email-password", "api-key", "organization-secret-key"],
)
def test_each_credential_kind_obtains_a_token_with_kraken_claims(
    http: httpx.Client,
    server: SandboxServer,
    fields: dict[str, str],
    subject: str,
    grant_type: str,
) -> None:
    result = token_for(http, server, **fields)
    claims = decode(result["token"])
    assert claims == result["payload"]
    assert claims["sub"] == subject
    assert claims["gty"] == grant_type
    assert claims["tokenUse"] == "access"
    assert claims["iss"] == SANDBOX_ISSUER
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["origIat"] == claims["iat"]
    assert abs(claims["iat"] - time.time()) < 5
    # refreshExpiresIn is an absolute Unix time, 7 days on.
    assert result["refreshExpiresIn"] == claims["iat"] + DEFAULT_REFRESH_TOKEN_LIFETIME
    assert isinstance(result["refreshToken"], str)
    assert len(result["refreshToken"]) >= 32


def test_the_token_works_bare_or_with_the_jwt_prefix(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = token_for(http, server, email=DEMO_EMAIL, password=DEMO_PASSWORD)["token"]
    for header in (token, f"JWT {token}"):
        body = post(http, server, VIEWER_QUERY, authorization=header)
        assert "errors" not in body
        assert body["data"]["viewer"]["email"] == DEMO_EMAIL


def test_refreshing_returns_a_new_access_token(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    clock.freeze()  # (else real time crosses a second now and then between the two: 601)
    first = token_for(http, server, APIKey=DEMO_API_KEY)
    clock.advance(600)
    refreshed = token_for(http, server, refreshToken=first["refreshToken"])
    assert refreshed["token"] != first["token"]
    old, new = decode(first["token"]), decode(refreshed["token"])
    assert new["sub"] == old["sub"]
    assert new["gty"] == "REFRESH-TOKEN"
    assert new["iat"] == old["iat"] + 600
    assert new["origIat"] == old["iat"]
    # The refresh token itself is kept, with its original expiry.
    assert refreshed["refreshToken"] == first["refreshToken"]
    assert refreshed["refreshExpiresIn"] == first["refreshExpiresIn"]
    body = post(http, server, VIEWER_QUERY, authorization=refreshed["token"])
    assert body["data"]["viewer"]["id"] == "1001"


def test_an_expired_refresh_token_is_kt_ct_1134(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    first = token_for(http, server, APIKey=DEMO_API_KEY)
    clock.advance(DEFAULT_REFRESH_TOKEN_LIFETIME + 1)
    body = obtain(http, server, refreshToken=first["refreshToken"])
    assert codes(body) == ["KT-CT-1134"]
    assert body["data"] == {"obtainKrakenToken": None}


def test_an_unknown_or_revoked_refresh_token_is_kt_ct_1135(
    http: httpx.Client, server: SandboxServer
) -> None:
    assert codes(obtain(http, server, refreshToken="not-a-refresh-token")) == ["KT-CT-1135"]
    first = token_for(http, server, APIKey=DEMO_API_KEY)
    server.revoke_refresh_tokens()
    assert codes(obtain(http, server, refreshToken=first["refreshToken"])) == ["KT-CT-1135"]


@pytest.mark.parametrize(
    ("fields", "code", "error_type"),
    [
        ({"email": DEMO_EMAIL, "password": "wrong"}, "KT-CT-1138", "VALIDATION"),
        ({"email": "nobody@example.com", "password": DEMO_PASSWORD}, "KT-CT-1138", "VALIDATION"),
        ({"APIKey": "sk_test_wrong"}, "KT-CT-1139", "AUTHORIZATION"),
        ({"organizationSecretKey": "sk_test_org_wrong"}, "KT-CT-1140", "AUTHORIZATION"),
        ({"email": DEMO_EMAIL}, "KT-CT-1136", "VALIDATION"),
        ({"password": DEMO_PASSWORD}, "KT-CT-1136", "VALIDATION"),
        ({}, "KT-CT-1137", "VALIDATION"),
        ({"APIKey": DEMO_API_KEY, "refreshToken": "x"}, "KT-CT-1137", "VALIDATION"),
        (
            {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "APIKey": DEMO_API_KEY},
            "KT-CT-1137",
            "VALIDATION",
        ),
    ],
    ids=[
        "wrong-password",
        "unknown-email",
        "bad-api-key",
        "bad-org-key",
        "email-only",
        "password-only",
        "no-credential",
        "two-kinds",
        "email-and-api-key",
    ],
)
def test_bad_token_requests_get_their_kt_ct_code(
    http: httpx.Client,
    server: SandboxServer,
    fields: dict[str, str],
    code: str,
    error_type: str,
) -> None:
    body = obtain(http, server, **fields)
    [error] = body["errors"]
    assert error["path"] == ["obtainKrakenToken"]
    assert error["extensions"]["errorCode"] == code
    assert error["extensions"]["errorType"] == error_type
    assert error["extensions"]["errorDescription"]
    assert body["data"] == {"obtainKrakenToken": None}


# -- the Authorization header ----------------------------------------------------------------------


def test_a_protected_field_without_a_header_is_kt_ct_1112(
    http: httpx.Client, server: SandboxServer
) -> None:
    response = http.post(server.url, json={"query": VIEWER_QUERY})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"viewer": None}
    [error] = body["errors"]
    assert error["message"] == "Authorization header not provided."
    assert error["path"] == ["viewer"]
    assert error["extensions"] == {
        "errorType": "AUTHORIZATION",
        "errorCode": "KT-CT-1112",
        "errorDescription": error["extensions"]["errorDescription"],
    }
    body = post(http, server, ACCOUNT_QUERY, {"n": DEMO_ACCOUNT_NUMBERS[0]})
    assert codes(body) == ["KT-CT-1112"]


def test_a_header_that_is_not_a_sandbox_token_is_kt_ct_1143(
    http: httpx.Client, server: SandboxServer
) -> None:
    valid = org_token(http, server)
    foreign = jwt.encode(
        decode(valid), "some-other-key-that-is-long-enough-for-hs256", algorithm="HS256"
    )
    for header in ("garbage", "JWT garbage", f"Bearer {valid}", foreign):
        body = post(http, server, VIEWER_QUERY, authorization=header)
        assert codes(body) == ["KT-CT-1143"], header


def test_an_expired_access_token_is_kt_ct_1124(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    token = org_token(http, server)
    clock.advance(3601)
    body = post(http, server, VIEWER_QUERY, authorization=token)
    assert codes(body) == ["KT-CT-1124"]
    assert body["errors"][0]["message"] == "Signature of the JWT has expired."


def test_the_expire_tokens_fault_makes_issued_tokens_kt_ct_1124(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = org_token(http, server)
    assert "errors" not in post(http, server, VIEWER_QUERY, authorization=token)
    server.expire_tokens()
    assert codes(post(http, server, VIEWER_QUERY, authorization=token)) == ["KT-CT-1124"]
    fresh = org_token(http, server)
    assert "errors" not in post(http, server, VIEWER_QUERY, authorization=fresh)


def test_a_token_request_carrying_an_expired_token_fails_like_on_kraken(
    http: httpx.Client, server: SandboxServer
) -> None:
    stale = org_token(http, server)
    server.expire_tokens()
    body = post(
        http,
        server,
        TOKEN_MUTATION,
        {"input": {"organizationSecretKey": DEMO_ORGANIZATION_SECRET_KEY}},
        authorization=stale,
    )
    assert codes(body) == ["KT-CT-1124"]


# -- permissions and public queries ----------------------------------------------------------------


def test_an_account_user_sees_only_their_own_accounts(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = token_for(http, server, email=DEMO_EMAIL, password=DEMO_PASSWORD)["token"]
    viewer = post(http, server, VIEWER_QUERY, authorization=token)["data"]["viewer"]
    assert [a["number"] for a in viewer["accounts"]] == list(DEMO_ACCOUNT_NUMBERS)
    for number in DEMO_ACCOUNT_NUMBERS:
        body = post(http, server, ACCOUNT_QUERY, {"n": number}, authorization=token)
        assert body["data"]["account"]["number"] == number
    for number in (OTHER_ACCOUNT_NUMBER, "A-00000000"):
        body = post(http, server, ACCOUNT_QUERY, {"n": number}, authorization=token)
        assert codes(body) == ["KT-CT-4177"]
        assert body["data"] == {"account": None}
        assert body["errors"][0]["path"] == ["account"]
    other = token_for(http, server, email=OTHER_EMAIL, password=OTHER_PASSWORD)["token"]
    body = post(http, server, ACCOUNT_QUERY, {"n": OTHER_ACCOUNT_NUMBER}, authorization=other)
    assert body["data"]["account"]["number"] == OTHER_ACCOUNT_NUMBER


def test_an_organization_sees_every_account(http: httpx.Client, server: SandboxServer) -> None:
    token = org_token(http, server)
    for number in (*DEMO_ACCOUNT_NUMBERS, OTHER_ACCOUNT_NUMBER):
        body = post(http, server, ACCOUNT_QUERY, {"n": number}, authorization=token)
        assert body["data"]["account"]["number"] == number


def test_public_queries_need_no_header(http: httpx.Client, server: SandboxServer) -> None:
    body = post(
        http,
        server,
        """{
          products { code displayName term prepay basedOnTimeOfUse availableFrom }
          productsWithConciseApplicableRates { id rates { serviceProvider } }
          tdspByPostalcode(postalCode: "75001") { serviceProvider loadZone }
        }""",
    )
    assert "errors" not in body
    codes_ = [p["code"] for p in body["data"]["products"]]
    assert "OCTOPUS-12M-FIXED" in codes_
    assert "OCTOPUS-EXTRA-90-DAY-FIXED" not in codes_  # retired: not available now
    assert body["data"]["tdspByPostalcode"] == [
        {"serviceProvider": "ONCOR", "loadZone": "LZ_NORTH"}
    ]
    for product in body["data"]["productsWithConciseApplicableRates"]:
        assert [r["serviceProvider"] for r in product["rates"]] == [
            "ONCOR",
            "CENTERPOINT",
            "AEP_TCC",
            "AEP_TNC",
            "TNMP",
        ]


@pytest.mark.parametrize(
    ("postal_code", "expected"),
    [
        ("77002", [("CENTERPOINT", "LZ_HOUSTON")]),
        ("78401", [("AEP_TCC", "LZ_SOUTH")]),
        ("79601", [("AEP_TNC", "LZ_SOUTH")]),
        ("76401", [("TNMP", "LZ_WEST")]),
        ("77573", [("TNMP", "LZ_WEST"), ("CENTERPOINT", "LZ_HOUSTON")]),
        ("78205", []),  # San Antonio: a municipal utility, no retail choice
        ("75001-1234", [("ONCOR", "LZ_NORTH")]),
        ("10001", []),
    ],
)
def test_tdsp_by_postal_code(
    http: httpx.Client, server: SandboxServer, postal_code: str, expected: list[tuple[str, str]]
) -> None:
    body = post(
        http,
        server,
        "query q($p: String!) { tdspByPostalcode(postalCode: $p) { serviceProvider loadZone } }",
        {"p": postal_code},
    )
    found = [(t["serviceProvider"], t["loadZone"]) for t in body["data"]["tdspByPostalcode"]]
    assert found == expected


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("prepay: true", ["OCTOGO-12M"]),
        ("basedOnTimeOfUse: true", ["INTELLIGENT-OCTOPUS-12M"]),
        ('id: "22"', ["OCTOPUS-24M-FIXED"]),
        ('displayName: "octopus 12m fixed"', ["OCTOPUS-12M-FIXED"]),
        (
            'availableAt: "2023-07-01T00:00:00Z"',
            ["OCTOPUS-MONTH-TO-MONTH", "OCTOPUS-EXTRA-90-DAY-FIXED"],
        ),
    ],
)
def test_product_filters(
    http: httpx.Client, server: SandboxServer, arguments: str, expected: list[str]
) -> None:
    body = post(http, server, f"{{ products({arguments}) {{ code }} }}")
    assert [p["code"] for p in body["data"]["products"]] == expected


def test_concise_rates_per_tdsp(http: httpx.Client, server: SandboxServer) -> None:
    query = """
    query q($rates: ConciseRatesInput) {
      productsWithConciseApplicableRates(filterProductsBy: {id: "21"}) {
        id
        rates(filterRatesBy: $rates) {
          serviceProvider loadZone kwhUsage totalApplicableRate
          serviceProviderConsumptionRate serviceProviderStandingRate loadZoneConsumptionRate
          totalApplicableRateWithMonthlySubscriptionFees totalApplicableDayRate
        }
      }
    }"""

    def rates(filter_by: dict[str, Any]) -> list[dict[str, Any]]:
        body = post(http, server, query, {"rates": filter_by})
        assert "errors" not in body, body
        [product] = body["data"]["productsWithConciseApplicableRates"]
        result: list[dict[str, Any]] = product["rates"]
        return result

    [oncor] = rates({"serviceProvider": "ONCOR"})
    assert oncor["loadZone"] == "LZ_NORTH"
    assert oncor["kwhUsage"] == "1000"
    assert oncor["loadZoneConsumptionRate"] == "14.20150"
    assert oncor["serviceProviderConsumptionRate"] == "4.54030"  # PUCT, March 2024
    # energy + delivery per kWh + the TDSP's monthly charge spread over 1000 kWh
    assert oncor["totalApplicableRate"] == "19.16480"  # 14.20150 + 4.54030 + 423 / 1000
    assert oncor["totalApplicableDayRate"] is None
    assert [r["serviceProvider"] for r in rates({"loadZone": "LZ_SOUTH"})] == [
        "AEP_TCC",
        "AEP_TNC",
    ]
    [by_esi_id] = rates({"esiId": "10089010023806217"})
    assert by_esi_id["serviceProvider"] == "CENTERPOINT"
    [heavy] = rates({"serviceProvider": "ONCOR", "kwhUsage": "2000"})
    assert heavy["totalApplicableRate"] == "18.95330"


# -- ledgers -------------------------------------------------------------------------------------


def test_pagination_walks_all_57_transactions(http: httpx.Client, server: SandboxServer) -> None:
    token = org_token(http, server)
    seen: list[dict[str, Any]] = []
    after = None
    pages = 0
    while True:
        body = post(
            http,
            server,
            TRANSACTIONS_QUERY,
            {"n": DEMO_ACCOUNT_NUMBERS[0], "first": 10, "after": after},
            authorization=token,
        )
        assert "errors" not in body, body
        [ledger] = body["data"]["account"]["ledgers"]
        page = ledger["transactions"]
        pages += 1
        assert page["totalCount"] == 57
        assert page["edgeCount"] == len(page["edges"])
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 6
    ids = [node["id"] for node in seen]
    assert len(ids) == 57
    assert len(set(ids)) == 57
    dates = [node["postedDate"] for node in seen]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert {node["__typename"] for node in seen} == {"Charge", "Payment", "Credit"}
    charge = next(node for node in seen if node["__typename"] == "Charge")
    assert charge["amounts"]["gross"] == charge["amounts"]["net"] + charge["amounts"]["tax"]
    assert charge["createdAt"].startswith(charge["postedDate"])


def test_pagination_backwards_and_opaque_cursors(http: httpx.Client, server: SandboxServer) -> None:
    token = org_token(http, server)

    def page(**variables: Any) -> dict[str, Any]:
        body = post(
            http,
            server,
            TRANSACTIONS_QUERY,
            {"n": DEMO_ACCOUNT_NUMBERS[0], **variables},
            authorization=token,
        )
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["account"]["ledgers"][0]["transactions"]
        return result

    everything = page(first=100)
    assert everything["edgeCount"] == 57
    assert not everything["pageInfo"]["hasNextPage"]
    tail = page(last=5)
    assert [e["node"]["id"] for e in tail["edges"]] == [
        e["node"]["id"] for e in everything["edges"][-5:]
    ]
    assert tail["pageInfo"]["hasPreviousPage"]
    middle = page(last=3, before=everything["edges"][10]["cursor"])
    assert [e["cursor"] for e in middle["edges"]] == [
        e["cursor"] for e in everything["edges"][7:10]
    ]
    cursor = everything["edges"][0]["cursor"]
    assert base64.b64decode(cursor)  # opaque, but base64
    body = post(
        http,
        server,
        TRANSACTIONS_QUERY,
        {"n": DEMO_ACCOUNT_NUMBERS[0], "first": 500},
        authorization=token,
    )
    assert body["errors"][0]["extensions"]["errorType"] == "VALIDATION"


# -- faults and counters -------------------------------------------------------------------------


def test_token_rate_limit_fault_is_kt_ct_1199(http: httpx.Client, server: SandboxServer) -> None:
    server.set_faults(token_rate_limit=1)
    body = obtain(http, server, APIKey=DEMO_API_KEY)
    [error] = body["errors"]
    assert error["extensions"]["errorCode"] == "KT-CT-1199"
    assert error["extensions"]["errorType"] == "AUTHORIZATION"
    token_for(http, server, APIKey=DEMO_API_KEY)  # used up: the next one succeeds
    assert server.stats.token_requests == 2
    assert server.stats.count("getKrakenToken") == 2


def test_data_rate_limit_fault_is_kt_ct_1199(http: httpx.Client, server: SandboxServer) -> None:
    token = org_token(http, server)
    server.set_faults(data_rate_limit=1)
    assert codes(post(http, server, VIEWER_QUERY, authorization=token)) == ["KT-CT-1199"]
    assert "errors" not in post(http, server, VIEWER_QUERY, authorization=token)


def test_bad_gateway_fault_answers_502_with_html(http: httpx.Client, server: SandboxServer) -> None:
    server.set_faults(bad_gateway=1)
    response = http.post(server.url, json={"query": "{ products { code } }"})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>")
    assert http.post(server.url, json={"query": "{ products { code } }"}).status_code == 200


def test_too_many_requests_fault_answers_429_with_retry_after(
    http: httpx.Client, server: SandboxServer
) -> None:
    server.set_faults(too_many_requests=1, retry_after=7)
    response = http.post(server.url, json={"query": "{ products { code } }"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"


def test_delay_fault(http: httpx.Client, server: SandboxServer) -> None:
    server.set_faults(delay=0.2)
    started = time.monotonic()
    post(http, server, "{ products { code } }")
    assert time.monotonic() - started >= 0.2


def test_a_request_a_delay_holds_back_is_in_flight_until_answered_though_its_client_left(
    server: SandboxServer,
) -> None:
    # Answered after its client has gone, it would be counted in the next test: the suite's
    # `sandbox` fixture waits for the sandbox to be idle after each test.
    server.set_faults(delay=0.5)
    with httpx.Client(timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.post(server.url, json={"query": "{ products { code } }"})
    assert server.wait_until_idle(timeout=0.05) is False  # still being answered
    assert server.wait_until_idle(timeout=5) is True


def test_faults_and_stats_over_http(http: httpx.Client, server: SandboxServer) -> None:
    token = org_token(http, server)
    control = f"{server.base_url}/sandbox"
    response = http.post(f"{control}/faults", json={"token_rate_limit": 1, "expire_tokens": True})
    assert response.status_code == 200
    assert response.json()["token_rate_limit"] == 1
    assert codes(post(http, server, VIEWER_QUERY, authorization=token)) == ["KT-CT-1124"]
    assert codes(obtain(http, server, APIKey=DEMO_API_KEY)) == ["KT-CT-1199"]
    stats = http.get(f"{control}/stats").json()
    assert stats["operations"] == {"getKrakenToken": 2, "getViewer": 1}
    assert stats["tokenRequests"] == 2
    bad = http.post(f"{control}/faults", json={"no_such_fault": 1})
    assert bad.status_code == 400
    assert "no_such_fault" in bad.json()["error"]
    assert http.post(f"{control}/reset").status_code == 200
    assert http.get(f"{control}/stats").json()["requests"] == 0
    assert http.get(f"{control}/faults").json()["token_rate_limit"] == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"delay": NaN}',
        '{"delay": Infinity}',
        '{"bad_gateway": Infinity}',
        '{"retry_after": 1e400}',
    ],
)
def test_a_fault_that_is_no_finite_number_is_refused_with_400_and_changes_nothing(
    http: httpx.Client, server: SandboxServer, body: str
) -> None:
    # Python's JSON reads NaN and Infinity: a NaN delay was stored and every GET of the faults
    # answered 500 until a reset; an infinite delay held every request forever; an infinite
    # count was a 500 (int(inf)).
    control = f"{server.base_url}/sandbox/faults"
    before = http.get(control).json()
    refused = http.post(control, content=body, headers={"Content-Type": "application/json"})
    assert refused.status_code == 400
    assert "finite" in refused.json()["error"]
    assert http.get(control).json() == before
    with pytest.raises(ValueError, match="finite"):
        server.set_faults(delay=float("nan"))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("faults", {"expire_tokens": "false"}),
        ("faults", {"revoke_refresh_tokens": "no"}),
        ("usage", {"fill_gap": "false"}),
        ("usage", {"fill_gap": 0}),
    ],
)
def test_a_switch_that_is_no_json_boolean_is_refused_with_400_and_nothing_done(
    http: httpx.Client, server: SandboxServer, path: str, body: dict[str, object]
) -> None:
    # bool("false") is True: {"fill_gap": "false"} filled the gap and {"expire_tokens": "no"}
    # expired every token, answering 200.
    token = org_token(http, server)
    control = f"{server.base_url}/sandbox/{path}"
    refused = http.post(control, json=body)
    assert refused.status_code == 400
    assert "true or false" in refused.json()["error"]
    assert server.state.usage.settings.gap_filled_at is None
    assert "errors" not in post(http, server, VIEWER_QUERY, authorization=token)


def test_graphql_validation_errors_are_http_200_with_kraken_shape(
    http: httpx.Client, server: SandboxServer
) -> None:
    body = post(http, server, "{ products { noSuchField } }")
    assert body["errors"][0]["extensions"]["errorType"] == "VALIDATION"


# -- the US surface: operations as written in queries/ -------------------------------------------

QUERIES = Path(__file__).resolve().parent.parent / "queries"
FIXED_NOW = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)  # a Friday, 7 pm in Texas
# Intervals ending by 22:00 UTC were in the 00:00 UTC batch: everything before is delivered.
FIXED_HORIZON = datetime(2026, 11, 19, 22, 0, tzinfo=timezone.utc)
CHICAGO = ZoneInfo("America/Chicago")
HOME = ("5101", "10443720004512388")  # the demo user's Dallas home: Oncor, a fixed product
WHOLESALE = ("5102", "10089010023806217")  # their Houston flat: CenterPoint, wholesale
RENTALS = ("5201", "5202", "5203")  # the other user's three properties


@functools.cache
def _definitions() -> dict[str, graphql.ExecutableDefinitionNode]:
    found: dict[str, graphql.ExecutableDefinitionNode] = {}
    for path in sorted(QUERIES.glob("*.graphql")):
        for definition in graphql.parse(path.read_text(encoding="utf-8")).definitions:
            assert isinstance(definition, graphql.ExecutableDefinitionNode)
            assert definition.name is not None
            found[definition.name.value] = definition
    return found


@functools.cache
def operation(name: str) -> str:
    """The operation `name` as queries/ has it, with the fragments it spreads."""
    definitions = _definitions()
    wanted, pending, seen = [definitions[name]], [definitions[name]], set()
    while pending:
        text = graphql.print_ast(pending.pop())
        for fragment, definition in definitions.items():
            if f"...{fragment}\n" in text + "\n" and fragment not in seen:
                seen.add(fragment)
                wanted.append(definition)
                pending.append(definition)
    return "\n\n".join(graphql.print_ast(d) for d in wanted)


def run(
    http: httpx.Client,
    server: SandboxServer,
    name: str,
    token: str | None = None,
    **variables: Any,
) -> dict[str, Any]:
    """POST the operation `name` from queries/ with `variables`."""
    headers = {"Authorization": token} if token else {}
    response = http.post(
        server.url,
        json={"query": operation(name), "operationName": name, "variables": variables},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def user_token(http: httpx.Client, server: SandboxServer) -> str:
    token: str = token_for(http, server, APIKey=DEMO_API_KEY)["token"]
    return token


def freeze(clock: Clock, when: datetime) -> None:
    """Set the server's clock to `when` (it ticks on from there with real time)."""
    clock.offset = when.timestamp() - time.time()


def page(
    http: httpx.Client, server: SandboxServer, token: str, property_id: str, **variables: Any
) -> dict[str, Any]:
    """One getPropertyMeasurements page (errors fail the test)."""
    variables.setdefault("first", 100)
    body = run(http, server, "getPropertyMeasurements", token, propertyId=property_id, **variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["property"]["measurements"]
    return result


def walk(
    http: httpx.Client, server: SandboxServer, token: str, property_id: str, **variables: Any
) -> tuple[list[dict[str, Any]], int]:
    """Every node of a window, page by page: (nodes, pages)."""
    nodes: list[dict[str, Any]] = []
    after, pages = None, 0
    while True:
        result = page(http, server, token, property_id, after=after, **variables)
        pages += 1
        nodes += [edge["node"] for edge in result["edges"]]
        if not result["pageInfo"]["hasNextPage"]:
            return nodes, pages
        after = result["pageInfo"]["endCursor"]


def starts(nodes: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(node["startAt"]) for node in nodes]


def quality(node: dict[str, Any]) -> str:
    value: str = node["metaData"]["utilityFilters"]["readingQuality"]
    return value


def every_start(low: datetime, high: datetime) -> set[datetime]:
    step, found, at = timedelta(minutes=15), set(), low
    while at < high:
        found.add(at)
        at += step
    return found


# -- usage: measurements -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "intervals", "hours"),
    [("2026-03-08", 92, 23), ("2026-11-01", 100, 25), ("2026-06-15", 96, 24)],
    ids=["spring-forward", "fall-back", "ordinary"],
)
def test_a_texas_local_day_has_92_96_or_100_intervals(
    http: httpx.Client, server: SandboxServer, day: str, intervals: int, hours: int
) -> None:
    token = org_token(http, server)
    result = page(http, server, token, HOME[0], startOn=day, endOn=day)

    assert result["totalCount"] == intervals
    assert len(result["edges"]) == intervals
    assert result["pageInfo"]["hasNextPage"] is False
    nodes = [edge["node"] for edge in result["edges"]]
    local = [s.astimezone(CHICAGO) for s in starts(nodes)]
    assert {s.date().isoformat() for s in local} == {day}
    assert (local[0].hour, local[-1].hour, local[-1].minute) == (0, 23, 45)
    assert {node["durationInSeconds"] for node in nodes} == {900}
    [total] = page(
        http,
        server,
        token,
        HOME[0],
        startOn=day,
        endOn=day,
        utilityFilters=[{"electricityFilters": {"readingFrequencyType": "DAY_INTERVAL"}}],
    )["edges"]
    assert total["node"]["durationInSeconds"] == hours * 3600
    assert Decimal(total["node"]["value"]) == sum(Decimal(node["value"]) for node in nodes)


@pytest.mark.slow
def test_paging_with_cursors_returns_every_interval_exactly_once(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    freeze(clock, FIXED_NOW)
    token = org_token(http, server)
    window = {"startOn": "2026-10-01", "endOn": "2026-10-07"}

    nodes, pages = walk(http, server, token, HOME[0], first=100, **window)

    found = starts(nodes)
    assert len(found) == len(set(found)) == 7 * 96
    assert found == sorted(found)
    low = datetime(2026, 10, 1, tzinfo=CHICAGO)
    assert set(found) == every_start(low, low + timedelta(days=7))
    assert pages == 7  # ceil(672 / 100)
    first = page(http, server, token, HOME[0], first=100, **window)
    assert first["totalCount"] == 672
    cursor = first["pageInfo"]["endCursor"]
    assert base64.b64decode(cursor)  # opaque, but base64
    second = page(http, server, token, HOME[0], first=100, after=cursor, **window)
    assert starts([e["node"] for e in second["edges"]]) == found[100:200]
    bad = run(
        http,
        server,
        "getPropertyMeasurements",
        token,
        propertyId=HOME[0],
        first=5,
        after="not-a-cursor",
    )
    assert bad["errors"][0]["extensions"]["errorType"] == "VALIDATION"


@pytest.mark.parametrize("first", [101, 1000, 0, -1, None])
def test_measurements_page_size_must_be_given_and_at_most_100(
    http: httpx.Client, server: SandboxServer, first: int | None
) -> None:
    token = org_token(http, server)
    query = """query q($first: Int) { property(id: "5101") {
      measurements(first: $first) { edges { node { value } } } } }"""
    body = post(http, server, query, {"first": first}, authorization=token)
    [error] = body["errors"]
    assert error["extensions"]["errorCode"] == "KT-CT-1201"
    assert error["extensions"]["errorType"] == "VALIDATION"
    assert body["data"]["property"]["measurements"] is None
    assert "first" in error["message"]


def test_time_filters_select_whole_intervals_in_the_window_and_its_time_zone(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = org_token(http, server)
    # Half past one to a quarter to three: the intervals wholly inside start at 1:30, 1:45 ... 2:30.
    inside = page(
        http,
        server,
        token,
        HOME[0],
        startAt="2026-06-15T01:30:00-05:00",
        endAt="2026-06-15T02:50:00-05:00",
    )
    assert [
        s.astimezone(CHICAGO).strftime("%H:%M")
        for s in starts([e["node"] for e in inside["edges"]])
    ] == ["01:30", "01:45", "02:00", "02:15", "02:30"]
    # A local day depends on `timezone`; answers come in that zone.
    utc_day = page(
        http, server, token, HOME[0], startOn="2026-06-15", endOn="2026-06-15", timezone="UTC"
    )
    assert utc_day["totalCount"] == 96
    assert utc_day["edges"][0]["node"]["startAt"] == "2026-06-15T00:00:00+00:00"
    texas_day = page(http, server, token, HOME[0], startOn="2026-06-15", endOn="2026-06-15")
    assert texas_day["edges"][0]["node"]["startAt"] == "2026-06-15T00:00:00-05:00"
    bad = run(
        http,
        server,
        "getPropertyMeasurements",
        token,
        propertyId=HOME[0],
        first=5,
        timezone="Texas/Dallas",
    )
    assert bad["errors"][0]["extensions"]["errorType"] == "VALIDATION"
    assert "timezone" in bad["errors"][0]["message"]


def test_hour_and_day_totals_add_up_the_intervals(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = org_token(http, server)
    day = {"startOn": "2026-08-03", "endOn": "2026-08-03"}
    intervals = [e["node"] for e in page(http, server, token, HOME[0], **day)["edges"]]
    hours = [
        e["node"]
        for e in page(
            http,
            server,
            token,
            HOME[0],
            utilityFilters=[{"electricityFilters": {"readingFrequencyType": "HOUR_INTERVAL"}}],
            **day,
        )["edges"]
    ]
    assert len(hours) == 24
    for n, hour in enumerate(hours):
        assert hour["durationInSeconds"] == 3600
        assert hour["metaData"]["utilityFilters"]["readingFrequencyType"] == "HOUR_INTERVAL"
        quarter_hours = intervals[4 * n : 4 * n + 4]
        assert Decimal(hour["value"]) == sum(Decimal(q["value"]) for q in quarter_hours)
    five = run(
        http,
        server,
        "getPropertyMeasurements",
        token,
        propertyId=HOME[0],
        first=5,
        utilityFilters=[{"electricityFilters": {"readingFrequencyType": "FIVE_MIN_INTERVAL"}}],
    )
    assert "not supported in ERCOT" in five["errors"][0]["message"]


def test_usage_has_a_daily_and_seasonal_shape_and_the_same_answer_twice(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = org_token(http, server)

    def day_total(day: str) -> Decimal:
        [edge] = page(
            http,
            server,
            token,
            HOME[0],
            startOn=day,
            endOn=day,
            utilityFilters=[{"electricityFilters": {"readingFrequencyType": "DAY_INTERVAL"}}],
        )["edges"]
        return Decimal(edge["node"]["value"])

    august = sum(day_total(f"2026-08-{d:02d}") for d in range(3, 10))
    april = sum(day_total(f"2026-04-{d:02d}") for d in range(6, 13))
    assert august > Decimal("1.4") * april  # air conditioning
    hours = page(
        http,
        server,
        token,
        HOME[0],
        startOn="2026-08-05",
        endOn="2026-08-05",
        utilityFilters=[{"electricityFilters": {"readingFrequencyType": "HOUR_INTERVAL"}}],
    )
    by_hour = [Decimal(e["node"]["value"]) for e in hours["edges"]]
    assert min(by_hour[14:20]) > max(by_hour[2:6])  # afternoons above the small hours
    again = page(
        http,
        server,
        token,
        HOME[0],
        startOn="2026-08-05",
        endOn="2026-08-05",
        utilityFilters=[{"electricityFilters": {"readingFrequencyType": "HOUR_INTERVAL"}}],
    )
    assert again == hours


def test_only_a_wholesale_meter_carries_costs_in_cents(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = org_token(http, server)
    day = {"startOn": "2026-08-03", "endOn": "2026-08-03"}
    priced = [e["node"] for e in page(http, server, token, WHOLESALE[0], **day)["edges"]]
    assert len(priced) == 96
    for node in priced:
        [cost] = node["metaData"]["statistics"]
        assert cost["type"] == "CONSUMPTION_COST"
        excluding, including = cost["costExclTax"], cost["costInclTax"]
        assert excluding["costCurrency"] == "USD"
        per_kwh = Decimal(excluding["pricePerUnit"]["amount"])
        assert Decimal("5") < per_kwh < Decimal("200")  # cents per kWh, delivery included
        expected = Decimal(node["value"]) * per_kwh
        assert abs(Decimal(excluding["estimatedAmount"]) - expected) < Decimal("0.01")
        assert Decimal(including["estimatedAmount"]) > Decimal(excluding["estimatedAmount"])
    fixed = page(http, server, token, HOME[0], **day)["edges"]
    assert all(e["node"]["metaData"]["statistics"] == [] for e in fixed)


def test_an_esi_id_filter_leaves_the_accounts_other_properties_empty(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = org_token(http, server)
    body = run(
        http,
        server,
        "getMeasurements",
        token,
        accountNumber=OTHER_ACCOUNT_NUMBER,
        first=20,
        startOn="2026-06-15",
        endOn="2026-06-15",
        utilityFilters=[{"electricityFilters": {"marketSupplyPointId": "10032789517730442"}}],
    )
    assert "errors" not in body, body
    properties = body["data"]["account"]["properties"]
    assert [p["id"] for p in properties] == list(RENTALS)
    counts = {
        p["electricityMeterPoints"][0]["mpan"]: p["measurements"]["totalCount"] for p in properties
    }
    assert counts == {"10032789456123007": 0, "10032789517730442": 96, "10204049061285531": 0}
    [chosen] = [p for p in properties if p["measurements"]["edges"]]
    node = chosen["measurements"]["edges"][0]["node"]
    assert node["metaData"]["utilityFilters"]["marketSupplyPointId"] == "10032789517730442"


def test_an_account_user_reads_only_their_own_usage(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = user_token(http, server)
    assert page(http, server, token, HOME[0], first=1)["edges"]
    denied = run(http, server, "getPropertyMeasurements", token, propertyId=RENTALS[0], first=1)
    assert codes(denied) == ["KT-CT-1111"]
    other = run(http, server, "getMeasurements", token, accountNumber=OTHER_ACCOUNT_NUMBER, first=1)
    assert codes(other) == ["KT-CT-4177"]
    anonymous = run(http, server, "getPropertyMeasurements", None, propertyId=HOME[0], first=1)
    assert codes(anonymous) == ["KT-CT-1112"]


# -- usage: late, revised and missing intervals ----------------------------------------------------


@pytest.mark.slow
def test_late_intervals_appear_once_sandbox_time_passes_their_delivery(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    freeze(clock, FIXED_NOW)
    token = org_token(http, server)
    window = {
        "startAt": (FIXED_HORIZON - timedelta(days=2)).isoformat(),
        "endAt": FIXED_HORIZON.isoformat(),
    }
    expected = every_start(FIXED_HORIZON - timedelta(days=2), FIXED_HORIZON)
    before: dict[str, dict[datetime, dict[str, Any]]] = {}
    for property_id in (HOME[0], WHOLESALE[0], *RENTALS):
        nodes, _ = walk(http, server, token, property_id, **window)
        before[property_id] = dict(zip(starts(nodes), nodes, strict=True))
    late = {pid: expected - set(found) for pid, found in before.items()}
    assert sum(len(missing) for missing in late.values()) > 0  # about 1 % of intervals

    clock.advance(LATE_DELAY)
    token = org_token(http, server)  # the first one has expired meanwhile

    for property_id, missing in late.items():
        nodes, _ = walk(http, server, token, property_id, **window)
        now_found = dict(zip(starts(nodes), nodes, strict=True))
        assert set(now_found) == expected  # the late ones arrived ...
        for start in missing:  # ... and say when
            read_at = datetime.fromisoformat(now_found[start]["readAt"])
            assert read_at >= start + timedelta(days=2)
        for start, node in before[property_id].items():  # nothing else changed
            assert now_found[start] == node


def test_the_gap_is_missing_until_the_knob_fills_it(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    freeze(clock, FIXED_NOW)
    token = org_token(http, server)
    day = {"startOn": "2026-07-14", "endOn": "2026-07-14"}
    gap = every_start(
        datetime.fromtimestamp(GAP_START, tz=timezone.utc),
        datetime.fromtimestamp(GAP_START + GAP_INTERVALS * 900, tz=timezone.utc),
    )
    assert len(gap) == GAP_INTERVALS == 8
    for property_id in (HOME[0], RENTALS[1]):
        result = page(http, server, token, property_id, **day)
        assert result["totalCount"] == 96 - 8
        assert not gap & set(starts([e["node"] for e in result["edges"]]))
    days = page(
        http,
        server,
        token,
        HOME[0],
        startOn="2026-07-13",
        endOn="2026-07-15",
        utilityFilters=[{"electricityFilters": {"readingFrequencyType": "DAY_INTERVAL"}}],
    )
    assert [e["node"]["startAt"][:10] for e in days["edges"]] == ["2026-07-13", "2026-07-15"]

    clock.advance(3600)  # the gap stays a gap as time passes ...
    token = org_token(http, server)
    assert page(http, server, token, HOME[0], **day)["totalCount"] == 88
    server.fill_usage_gap()  # ... until the knob delivers it, now

    result = page(http, server, token, HOME[0], **day)
    assert result["totalCount"] == 96
    nodes = [e["node"] for e in result["edges"]]
    filled = dict(zip(starts(nodes), nodes, strict=True))
    for start in gap:
        read_at = datetime.fromisoformat(filled[start]["readAt"])
        assert FIXED_NOW + timedelta(seconds=3600) <= read_at < FIXED_NOW + timedelta(hours=2)


def test_churn_makes_later_intervals_late_or_revised_and_changes_nothing_delivered(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    freeze(clock, FIXED_NOW)
    token = org_token(http, server)
    delivered = {
        "startAt": (FIXED_HORIZON - timedelta(days=3)).isoformat(),
        "endAt": FIXED_HORIZON.isoformat(),
    }
    before, _ = walk(http, server, token, HOME[0], **delivered)

    server.set_usage_churn(late_share=0.5, revised_share=0.5)

    assert walk(http, server, token, HOME[0], **delivered)[0] == before
    next_day = {
        "startAt": FIXED_HORIZON.isoformat(),
        "endAt": (FIXED_HORIZON + timedelta(days=1)).isoformat(),
    }
    clock.advance(86400 + 3 * 3600)  # a day on: that day's intervals have been due
    token = org_token(http, server)
    arrived, _ = walk(http, server, token, HOME[0], **next_day)
    estimates = {
        s: n for s, n in zip(starts(arrived), arrived, strict=True) if quality(n) == "ESTIMATE"
    }
    assert 10 < len(arrived) < 96 - 10  # about half are late
    assert 5 < len(estimates) < len(arrived) - 5  # about half of those arrived are estimates

    # Four days more: the late ones are in (after two), and every estimate is revised, even
    # those that were late too (two days after arriving).
    clock.advance(4 * 86400)
    token = org_token(http, server)
    final, _ = walk(http, server, token, HOME[0], **next_day)
    assert len(final) == 96
    assert {quality(n) for n in final} == {"ACTUAL"}
    final_by_start = dict(zip(starts(final), final, strict=True))
    changed = [s for s, n in estimates.items() if final_by_start[s]["value"] != n["value"]]
    assert len(changed) > len(estimates) // 2
    for start, estimate in estimates.items():
        revised = final_by_start[start]
        assert datetime.fromisoformat(revised["readAt"]) > datetime.fromisoformat(
            estimate["readAt"]
        )
    # A revision gives the value the meter would have shown with no churn at all.
    server.state.usage.reset()
    plain, _ = walk(http, server, token, HOME[0], **next_day)
    assert [n["value"] for n in plain] == [n["value"] for n in final]


def test_usage_knobs_over_http(http: httpx.Client, server: SandboxServer) -> None:
    control = f"{server.base_url}/sandbox/usage"
    seeded = http.get(control).json()
    assert seeded["late_share"] == SEEDED_LATE_SHARE
    assert seeded["revised_share"] == 0.0
    assert seeded["gap_filled_at"] is None
    changed = http.post(control, json={"revised_share": 0.25, "fill_gap": True})
    assert changed.status_code == 200
    assert changed.json()["revised_share"] == 0.25
    assert changed.json()["late_share"] == SEEDED_LATE_SHARE
    assert changed.json()["gap_filled_at"] is not None
    for bad in ({"late_share": 2}, {"no_such_knob": 1}, [], {}):
        response = http.post(control, json=bad)
        assert response.status_code == 400, bad
        assert "error" in response.json()
    http.post(f"{server.base_url}/sandbox/reset")
    assert http.get(control).json() == seeded


# -- usage: intervalReadings and dailyReadings -----------------------------------------------------


def test_interval_readings_cover_a_day_at_most_with_wholesale_prices(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = user_token(http, server)
    day = {"fromDatetime": "2026-08-03T00:00:00-05:00", "toDatetime": "2026-08-04T00:00:00-05:00"}
    body = run(
        http,
        server,
        "getIntervalReadings",
        token,
        accountNumber=DEMO_ACCOUNT_NUMBERS[1],
        esiId=WHOLESALE[1],
        **day,
    )
    rows = body["data"]["intervalReadings"]
    assert len(rows) == 96
    assert {row["meterPointId"] for row in rows} == {WHOLESALE[1]}
    assert all(Decimal("0.5") <= Decimal(row["price"]) < Decimal("100") for row in rows)
    measured = [
        e["node"]
        for e in page(
            http,
            server,
            org_token(http, server),
            WHOLESALE[0],
            startOn="2026-08-03",
            endOn="2026-08-03",
        )["edges"]
    ]
    assert [row["consumption"] for row in rows] == [node["value"] for node in measured]
    fixed = run(
        http,
        server,
        "getIntervalReadings",
        token,
        accountNumber=DEMO_ACCOUNT_NUMBERS[0],
        esiId=HOME[1],
        **day,
    )
    assert {row["price"] for row in fixed["data"]["intervalReadings"]} == {None}
    too_long = run(
        http,
        server,
        "getIntervalReadings",
        token,
        accountNumber=DEMO_ACCOUNT_NUMBERS[0],
        esiId=HOME[1],
        fromDatetime="2026-08-03T00:00:00-05:00",
        toDatetime="2026-08-05T00:00:00-05:00",
    )
    assert too_long["errors"][0]["extensions"]["errorType"] == "VALIDATION"
    not_on_account = run(
        http,
        server,
        "getIntervalReadings",
        token,
        accountNumber=DEMO_ACCOUNT_NUMBERS[0],
        esiId=WHOLESALE[1],
        **day,
    )
    assert not_on_account["errors"][0]["extensions"]["errorType"] == "NOT_FOUND"


def test_daily_readings_register_advances_by_each_days_usage(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = user_token(http, server)
    body = run(
        http,
        server,
        "getDailyReadings",
        token,
        accountNumber=DEMO_ACCOUNT_NUMBERS[0],
        esiId=HOME[1],
        fromDatetime="2026-03-06T00:00:00-06:00",
        toDatetime="2026-03-10T00:00:00-05:00",
    )
    rows = body["data"]["dailyReadings"]
    assert [row["readAt"] for row in rows] == [
        "2026-03-07T00:00:00-06:00",
        "2026-03-08T00:00:00-06:00",
        "2026-03-09T00:00:00-05:00",  # the 23-hour day
        "2026-03-10T00:00:00-05:00",
    ]
    for previous, row in itertools.pairwise(rows):
        advance = Decimal(row["meterReading"]) - Decimal(previous["meterReading"])
        assert advance == Decimal(row["dailyUsage"])
    measured = page(
        http, server, org_token(http, server), HOME[0], startOn="2026-03-08", endOn="2026-03-08"
    )
    assert Decimal(rows[2]["dailyUsage"]) == sum(
        Decimal(e["node"]["value"]) for e in measured["edges"]
    )


# -- caps and budget -------------------------------------------------------------------------------


def test_three_properties_at_100_a_page_break_the_complexity_cap_with_kt_ct_1188(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = org_token(http, server)
    # Each property's page: ceil(100 x 31 fields / 40) = 78; 1 + 3 x 78 = 235 > 200.
    body = run(
        http, server, "getMeasurements", token, accountNumber=OTHER_ACCOUNT_NUMBER, first=100
    )
    assert body["data"] is None  # refused as a whole: no partial data
    [error] = body["errors"]
    assert error["extensions"]["errorCode"] == "KT-CT-1188"
    assert "235" in error["extensions"]["errorDescription"]
    # Smaller pages fit (1 + 3 x 39 = 118), and so does one property at 100 (1 + 78).
    smaller = run(
        http, server, "getMeasurements", token, accountNumber=OTHER_ACCOUNT_NUMBER, first=50
    )
    assert "errors" not in smaller
    assert all(
        len(p["measurements"]["edges"]) == 50 for p in smaller["data"]["account"]["properties"]
    )
    assert len(page(http, server, token, RENTALS[0], first=100)["edges"]) == 100
    two = run(
        http, server, "getMeasurements", token, accountNumber=DEMO_ACCOUNT_NUMBERS[0], first=100
    )
    assert "errors" not in two


def test_over_10000_nodes_is_kt_ct_1189(http: httpx.Client, server: SandboxServer) -> None:
    token = org_token(http, server)

    def bills_with_transactions(bills: int, transactions: int) -> dict[str, Any]:
        query = f"""{{ account(accountNumber: "{DEMO_ACCOUNT_NUMBERS[0]}") {{
          bills(first: {bills}) {{ edges {{ node {{ ... on StatementType {{
            transactions(first: {transactions}) {{ edges {{ node {{ __typename id }} }} }}
          }} }} }} }} }} }}"""
        return post(http, server, query, authorization=token)

    # 100 bills x (1 + 100 transactions each) = 10,100 nodes, whatever the account holds. (It
    # is over the complexity cap too: the node cap is checked first.)
    body = bills_with_transactions(100, 100)
    assert body == {"data": None, "errors": body["errors"]}
    assert codes(body) == ["KT-CT-1189"]
    assert "10,100" in body["errors"][0]["extensions"]["errorDescription"]
    # 10 x (1 + 10) = 110 nodes: answered, the nested connection too.
    small = bills_with_transactions(10, 10)
    assert "errors" not in small, small
    statements = [e["node"] for e in small["data"]["account"]["bills"]["edges"]]
    assert len(statements) == 10
    assert all(2 <= len(s["transactions"]["edges"]) <= 3 for s in statements)


def test_rate_limit_info_counts_down_by_each_requests_complexity(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = user_token(http, server)

    def allowance() -> dict[str, Any]:
        body = run(http, server, "getRateLimitInfo", token)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["rateLimitInfo"]["pointsAllowanceRateLimit"]
        return result

    first = allowance()
    assert first["limit"] == POINTS_PER_HOUR["account-user"] == 50_000
    assert first["usedPoints"] == 0  # the token request cost nothing
    assert first["isBlocked"] is False
    assert abs(first["ttl"] - (time.time() + 3600)) < 60
    page(http, server, token, HOME[0], first=100)  # 1 + ceil(100 x 31 / 40) = 79 points
    second = allowance()
    assert second["usedPoints"] == 1 + 79  # the first rateLimitInfo, then the page
    assert second["remainingPoints"] == 50_000 - 80
    assert second["ttl"] == first["ttl"]
    org = org_token(http, server)
    body = run(http, server, "getRateLimitInfo", org)
    assert body["data"]["rateLimitInfo"]["pointsAllowanceRateLimit"]["usedPoints"] == 0
    assert body["data"]["rateLimitInfo"]["pointsAllowanceRateLimit"]["limit"] == 100_000
    assert codes(run(http, server, "getRateLimitInfo")) == ["KT-CT-1112"]


def test_a_spent_allowance_is_kt_ct_1199_until_the_hour_renews(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    server.set_faults(points_allowance=100)
    token = user_token(http, server)
    for _ in range(2):  # 79 points each: the second starts with 79 used, under 100
        page(http, server, token, HOME[0], first=100)
    blocked = run(http, server, "getRateLimitInfo", token)
    assert codes(blocked) == ["KT-CT-1199"]
    assert codes(
        run(http, server, "getPropertyMeasurements", token, propertyId=HOME[0], first=1)
    ) == ["KT-CT-1199"]
    # Another caller has its own allowance.
    assert "errors" not in run(http, server, "getRateLimitInfo", org_token(http, server))

    clock.advance(3601)
    token = user_token(http, server)  # the same user: the same allowance, renewed

    renewed = run(http, server, "getRateLimitInfo", token)
    assert renewed["data"]["rateLimitInfo"]["pointsAllowanceRateLimit"]["usedPoints"] == 0


# -- addresses -------------------------------------------------------------------------------------


def test_address_lookup_by_esi_id_and_by_street_address(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = org_token(http, server)
    [home] = run(http, server, "lookupAddressByEsiId", token, esiId=WHOLESALE[1])["data"][
        "addressLookup"
    ]
    assert home == {
        "esiId": WHOLESALE[1],
        "houseNumber": "1100",
        "address": "1100 Louisiana Street",
        "address2": "Apt 804",
        "city": "Houston",
        "state": "TX",
        "postCode": "77002",
        "serviceProvider": "CENTERPOINT",
        "loadZone": "LZ_HOUSTON",
        "isCustomer": {"isOeCustomer": True},
    }
    building = run(
        http,
        server,
        "lookupAddressByStreetAddress",
        token,
        address="1100 louisiana st.",
        postCode="77002",
    )["data"]["addressLookup"]
    assert [(p["address2"], p["isCustomer"]["isOeCustomer"]) for p in building] == [
        ("Apt 804", True),
        ("Apt 805", False),
        ("Apt 1203", False),
    ]
    assert len({p["esiId"] for p in building}) == 3
    assert all(len(p["esiId"]) == 17 and p["esiId"].startswith("1008901") for p in building)
    [unit] = run(
        http,
        server,
        "lookupAddressByStreetAddress",
        token,
        address="1100 Louisiana",
        postCode="77002",
        address2="apt 1203",
    )["data"]["addressLookup"]
    assert unit["isCustomer"] == {"isOeCustomer": False}
    assert (
        run(
            http,
            server,
            "lookupAddressByStreetAddress",
            token,
            address="1100 Louisiana",
            postCode="75201",
        )["data"]["addressLookup"]
        == []
    )
    assert (
        run(http, server, "lookupAddressByEsiId", token, esiId="10443720000000000")["data"][
            "addressLookup"
        ]
        == []
    )
    for postal_code in ("79601", "76401"):  # homes in every ZIP code the sandbox knows
        found = post(
            http,
            server,
            'query q($p: String!) { addressLookup(address: "1", '
            "postCode: $p) { postCode serviceProvider } }",
            {"p": postal_code},
            authorization=token,
        )["data"]["addressLookup"]
        assert found
        assert {p["postCode"] for p in found} == {postal_code}


def test_address_lookup_needs_an_organisation_token(
    http: httpx.Client, server: SandboxServer
) -> None:
    user = run(http, server, "lookupAddressByEsiId", user_token(http, server), esiId=HOME[1])
    assert codes(user) == ["KT-CT-1111"]
    assert user["errors"][0]["extensions"]["errorType"] == "AUTHORIZATION"
    assert codes(run(http, server, "lookupAddressByEsiId", None, esiId=HOME[1])) == ["KT-CT-1112"]
    nothing = post(
        http, server, "{ addressLookup { esiId } }", authorization=org_token(http, server)
    )
    assert nothing["errors"][0]["extensions"]["errorType"] == "VALIDATION"


# -- rates and quotes ------------------------------------------------------------------------------


def test_rates_by_esi_id_tdsp_load_zone_and_usage_need_no_token(
    http: httpx.Client, server: SandboxServer
) -> None:
    def rows(name: str, **variables: Any) -> list[dict[str, Any]]:
        body = run(http, server, name, **variables)
        assert "errors" not in body, body
        [product] = [
            p for p in body["data"]["productsWithConciseApplicableRates"] if p["id"] == "40"
        ]  # the time-of-use product
        found: list[dict[str, Any]] = product["rates"]
        return found

    [by_esi_id] = rows("getRatesForEsiId", esiId=HOME[1], kwhUsage="1500")
    assert (by_esi_id["serviceProvider"], by_esi_id["kwhUsage"]) == ("ONCOR", "1500")
    assert by_esi_id["totalApplicableDayRate"] > by_esi_id["totalApplicableNightRate"]
    assert [
        r["serviceProvider"] for r in rows("getRatesForServiceProvider", serviceProvider="TNMP")
    ] == ["TNMP"]
    assert [r["serviceProvider"] for r in rows("getRatesForLoadZone", loadZone="LZ_SOUTH")] == [
        "AEP_TCC",
        "AEP_TNC",
    ]
    light, heavy = (rows("getRatesForUsage", kwhUsage=k) for k in ("500", "2000"))
    assert len(light) == len(heavy) == 5
    # The TDSP's monthly charge spread over more kWh: dearer per kWh for light users.
    assert all(
        Decimal(a["totalApplicableRate"]) > Decimal(b["totalApplicableRate"])
        for a, b in zip(light, heavy, strict=True)
    )


@pytest.mark.parametrize(
    ("esi_id", "served_by"),
    [
        ("10443720009999999", "ONCOR"),  # 17 digits, Oncor's prefix: not seeded, still served
        ("1008901000000000000001", "CENTERPOINT"),  # 22 digits, as CenterPoint's are
        ("1044372", None),  # Oncor's prefix alone
        ("1044372000451238", None),  # 16 digits
        ("10443720004512388x", None),
        ("10443720004512388 OR 1=1", None),
        ("abc", None),
    ],
)
def test_an_esi_id_is_17_to_22_digits_and_anything_else_is_served_by_no_tdsp(
    http: httpx.Client, server: SandboxServer, esi_id: str, served_by: str | None
) -> None:
    """What starts like an Oncor ESI ID is not one unless it is all digits, 17 to 22 of them:
    rates for anything else are none, and a quote for it is refused."""
    body = run(http, server, "getRatesForEsiId", esiId=esi_id)
    assert "errors" not in body, body
    tdsps = {r["serviceProvider"] for p in body["data"]["productsWithConciseApplicableRates"]
             for r in p["rates"]}  # fmt: skip
    assert tdsps == ({served_by} if served_by else set())

    point = {"mpan": esi_id, "isEstimate": False, "annualConsumptionStandard": 12000}
    quote = run(http, server, "createQuote", org_token(http, server),
                input={"postcode": "75201", "brandCode": "OCTOPUS_ENERGY_USA",
                       "electricityMeterPoints": [point]})  # fmt: skip
    assert codes(quote) == ([] if served_by else ["KT-CT-8413"]), quote


def test_quote_estimates_are_the_rate_times_the_usage(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = org_token(http, server)
    body = run(
        http,
        server,
        "createQuote",
        token,
        input={
            "postcode": "75201",
            "brandCode": "OCTOPUS_ENERGY_USA",
            "electricityMeterPoints": [
                {"mpan": HOME[1], "isEstimate": False, "annualConsumptionStandard": 14000}
            ],
        },
    )
    assert "errors" not in body, body
    quote = body["data"]["createQuote"]["quote"]
    rates = {
        p["id"]: p["rates"][0]
        for p in run(http, server, "getRatesForEsiId", esiId=HOME[1], kwhUsage="1166.67")["data"][
            "productsWithConciseApplicableRates"
        ]
    }
    quoted = quote["quotedProducts"]
    assert {q["product"]["id"] for q in quoted} == set(rates)
    for q in quoted:
        details = q["estimatedDetails"]
        assert (details["kwhUsage"], details["usagePeriod"]) == ("14000", "ANNUALLY")
        expected_rates = rates[q["product"]["id"]]
        assert details["applicableRates"] == {
            k: expected_rates[k] for k in details["applicableRates"]
        }
        rate = Decimal(expected_rates["totalApplicableRateWithMonthlySubscriptionFees"])
        annual = (rate * 14000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(details["annualCostEstimate"]) == annual
        monthly = (annual / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(details["monthlyCostEstimate"]) == monthly
        assert q["annualAmount"] == int(annual.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        assert (q["serviceProvider"], q["loadZone"]) == ("ONCOR", "LZ_NORTH")
    [recommended] = [q for q in quoted if q["recommended"]]
    assert recommended["annualAmount"] == min(q["annualAmount"] for q in quoted)


@pytest.mark.parametrize("kwh", ["1e-300", "1e-24"])
def test_a_kwh_usage_too_small_to_price_is_a_validation_error_saying_so(
    http: httpx.Client, server: SandboxServer, kwh: str
) -> None:
    # The monthly fees spread over it are beyond decimal's 28 digits: the answer's message was
    # "[<class 'decimal.InvalidOperation'>]", once per product.
    body = run(http, server, "getRatesForUsage", kwhUsage=kwh)
    messages = {error["message"] for error in body["errors"]}
    assert messages == {f"kwhUsage {Decimal(kwh)} is too small to work out a rate per kWh."}, body
    assert {error["extensions"]["errorType"] for error in body["errors"]} == {"VALIDATION"}


@pytest.mark.parametrize("annual_kwh", [0, -5])
def test_a_stated_annual_usage_that_is_not_more_than_zero_is_refused_never_estimated(
    http: httpx.Client, server: SandboxServer, annual_kwh: int
) -> None:
    """A quote for 0 kWh a year is a caller's mistake, as -5 is: it must not be quoted at the
    meter's usual year while saying the usage was not estimated."""
    point = {"mpan": HOME[1], "isEstimate": False, "annualConsumptionStandard": annual_kwh}
    body = run(
        http,
        server,
        "createQuote",
        org_token(http, server),
        input={"postcode": "75201", "brandCode": "OCTOPUS_ENERGY_USA",
               "electricityMeterPoints": [point]},
    )  # fmt: skip
    assert body["data"]["createQuote"] is None, body
    assert codes(body) == ["KT-CT-8413"]
    assert "annualConsumptionStandard must be more than zero" in str(body["errors"])


def test_create_quote_needs_an_organisation_and_a_customer_quotes_their_own_account(
    http: httpx.Client, server: SandboxServer
) -> None:
    user = user_token(http, server)
    refused = run(
        http,
        server,
        "createQuote",
        user,
        input={"postcode": "75201", "brandCode": "OCTOPUS_ENERGY_USA"},
    )
    assert codes(refused) == ["KT-CT-1111"]
    own = run(http, server, "createCustomerQuote", user, accountNumber=DEMO_ACCOUNT_NUMBERS[1])
    quote = own["data"]["customerCreateQuote"]["quote"]
    assert quote["postcode"] == "77002"
    assert {q["serviceProvider"] for q in quote["quotedProducts"]} == {"CENTERPOINT"}
    usage = {q["estimatedDetails"]["kwhUsage"] for q in quote["quotedProducts"]}
    assert len(usage) == 1
    assert 6_000 < int(usage.pop()) < 20_000  # the meter's own year
    other = run(http, server, "createCustomerQuote", user, accountNumber=OTHER_ACCOUNT_NUMBER)
    assert codes(other) == ["KT-CT-4177"]
    again = run(http, server, "createCustomerQuote", user, accountNumber=DEMO_ACCOUNT_NUMBERS[1])
    assert again["data"]["customerCreateQuote"]["quote"]["quoteId"] != quote["quoteId"]


# -- money -----------------------------------------------------------------------------------------


def test_payments_are_the_ledgers_payments_in_cents(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = user_token(http, server)
    body = run(
        http, server, "getAccountPayments", token, accountNumber=DEMO_ACCOUNT_NUMBERS[0], first=100
    )
    payments = [e["node"] for e in body["data"]["account"]["payments"]["edges"]]
    ledger = post(
        http,
        server,
        TRANSACTIONS_QUERY,
        {"n": DEMO_ACCOUNT_NUMBERS[0], "first": 100},
        authorization=token,
    )["data"]["account"]["ledgers"][0]["transactions"]["edges"]
    paid = [e["node"] for e in ledger if e["node"]["__typename"] == "Payment"]
    assert [(p["id"], p["amount"], p["paymentDate"]) for p in payments] == [
        (n["id"], n["amounts"]["gross"], n["postedDate"]) for n in paid
    ]
    assert len(payments) == 24
    assert {(p["status"], p["transactionType"]) for p in payments} == {
        ("CLEARED", "DD_REGULAR_COLLECTION")
    }
    failed = run(
        http,
        server,
        "getAccountPayments",
        token,
        accountNumber=DEMO_ACCOUNT_NUMBERS[0],
        status="FAILED",
    )
    assert failed["data"]["account"]["payments"]["totalCount"] == 0
    other = run(http, server, "getAccountPayments", token, accountNumber=OTHER_ACCOUNT_NUMBER)
    assert codes(other) == ["KT-CT-4177"]


def test_statements_chain_their_balances_and_total_their_charges(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = user_token(http, server)
    body = run(
        http, server, "getAccountBills", token, accountNumber=DEMO_ACCOUNT_NUMBERS[0], first=100
    )
    bills = [e["node"] for e in body["data"]["account"]["bills"]["edges"]]
    assert len(bills) == 24
    assert [b["issuedDate"] for b in bills] == sorted(
        (b["issuedDate"] for b in bills), reverse=True
    )
    for newer, older in itertools.pairwise(bills):
        assert newer["openingBalance"] == older["closingBalance"]
        assert newer["fromDate"] > older["toDate"]
    # The newest statement's closing balance, plus what the ledger posted after it, is the
    # account's balance today.
    account = post(
        http, server, ACCOUNT_QUERY, {"n": DEMO_ACCOUNT_NUMBERS[0]}, authorization=token
    )["data"]["account"]
    ledger = post(
        http,
        server,
        TRANSACTIONS_QUERY,
        {"n": DEMO_ACCOUNT_NUMBERS[0], "first": 100},
        authorization=token,
    )["data"]["account"]["ledgers"][0]["transactions"]["edges"]
    newest = bills[0]
    later = [e["node"] for e in ledger if e["node"]["postedDate"] > newest["issuedDate"]]
    assert later
    signed = sum(
        -n["amounts"]["gross"] if n["__typename"] == "Charge" else n["amounts"]["gross"]
        for n in later
    )
    assert newest["closingBalance"] + signed == account["balance"]
    for bill in bills:
        charges = bill["totalCharges"]
        assert charges["grossTotal"] == charges["netTotal"] + charges["taxTotal"] > 0
        assert bill["billType"] == "STATEMENT"
        assert bill["temporaryUrl"].endswith(".pdf")
        assert bill["paymentDueDate"] > bill["issuedDate"]
    since = run(
        http,
        server,
        "getAccountBills",
        token,
        accountNumber=DEMO_ACCOUNT_NUMBERS[0],
        fromDate="2026-06-01",
    )
    assert since["data"]["account"]["bills"]["totalCount"] == 6  # June to November 2026


# -- metadata and smart devices --------------------------------------------------------------------


def test_update_metadata_stores_json_and_returns_it(
    http: httpx.Client, server: SandboxServer
) -> None:
    token = user_token(http, server)
    value = json.dumps({"affiliate": "ACME", "ref": 12})
    body = run(
        http,
        server,
        "updateMetadata",
        token,
        linkedObjectType="ACCOUNT",
        identifier=DEMO_ACCOUNT_NUMBERS[0],
        key="enrolment",
        value=value,
    )
    assert body["data"]["updateMetadata"]["metadata"] == {"key": "enrolment", "value": value}
    stored = post(
        http,
        server,
        f'{{ account(accountNumber: "{DEMO_ACCOUNT_NUMBERS[0]}") {{ metadata {{ key value }} }} }}',
        authorization=token,
    )
    assert stored["data"]["account"]["metadata"] == [{"key": "enrolment", "value": value}]
    own_user = run(
        http,
        server,
        "updateMetadata",
        token,
        linkedObjectType="ACCOUNT_USER",
        identifier="1001",
        key="theme",
        value='"dark"',
    )
    assert "errors" not in own_user
    for identifier, linked in ((OTHER_ACCOUNT_NUMBER, "ACCOUNT"), ("1002", "ACCOUNT_USER")):
        refused = run(
            http,
            server,
            "updateMetadata",
            token,
            linkedObjectType=linked,
            identifier=identifier,
            key="k",
            value="1",
        )
        assert codes(refused) == ["KT-CT-1111"]
    invalid = run(
        http,
        server,
        "updateMetadata",
        token,
        linkedObjectType="ACCOUNT",
        identifier=DEMO_ACCOUNT_NUMBERS[0],
        key="k",
        value="{not json",
    )
    assert codes(invalid) == ["KT-CT-8413"]


def test_a_smart_device_state_is_hex_and_acquires_tokens_once(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    token = user_token(http, server)
    device = {
        "accountNumber": DEMO_ACCOUNT_NUMBERS[0],
        "deviceType": "THERMOSTATS",
        "deviceVendor": "ECOBEE",
    }

    def new_state() -> str:
        body = run(http, server, "createSmartDeviceToken", token, **device)
        state: str = body["data"]["createSmartDeviceToken"]["state"]
        return state

    state = new_state()
    assert len(state) == 32
    assert int(state, 16) >= 0  # hex
    assert new_state() != state

    def acquire(state: str, account: str = DEMO_ACCOUNT_NUMBERS[0]) -> dict[str, Any]:
        return run(
            http,
            server,
            "acquireOauthTokens",
            token,
            accountNumber=account,
            authCode="vendor-code",
            state=state,
        )

    assert acquire(state, DEMO_ACCOUNT_NUMBERS[1])["errors"]  # issued for another account
    assert acquire(state)["data"]["acquireOauthTokens"] == {"tokensAcquired": True}
    assert acquire(state)["errors"][0]["extensions"]["errorType"] == "VALIDATION"  # used
    stale = new_state()
    clock.advance(601)
    assert acquire(stale)["errors"]  # expired after 10 minutes
    assert codes(
        run(
            http,
            server,
            "createSmartDeviceToken",
            token,
            **{**device, "accountNumber": OTHER_ACCOUNT_NUMBER},
        )
    ) == ["KT-CT-4177"]


# -- Fan Club --------------------------------------------------------------------------------------


def test_the_fan_club_discount_is_public_and_moves_with_the_hour(
    http: httpx.Client, server: SandboxServer, clock: Clock
) -> None:
    freeze(clock, FIXED_NOW)
    seen = []
    for _ in range(72):
        body = run(http, server, "getFanClubDiscount")
        assert "errors" not in body, body
        seen.append(body["data"]["getFanClubDiscount"]["discountAmount"])
        clock.advance(3600)
    assert set(seen) == {"0.0", "0.2", "0.5"}
    assert server.stats.token_requests == 0
    clock.offset -= 72 * 3600
    # Within an hour it stays put.
    assert (
        run(http, server, "getFanClubDiscount")["data"]["getFanClubDiscount"]["discountAmount"]
        == seen[0]
    )


# -- the fabricated rest of the schema -----------------------------------------------------------


def _required_arguments(field: GraphQLField) -> bool:
    return any(is_required_argument(argument) for argument in field.args.values())


# Root fields whose arguments are all optional in the schema, but which have seeded behaviour and
# refuse to run without one (tested with their arguments above).
NEEDS_SOME_ARGUMENT = frozenset({"addressLookup"})


def _selection(type_: GraphQLObjectType, depth: int) -> str:
    """Every leaf field (and, `depth` > 1, every object field's leaves) needing no arguments."""
    parts = ["__typename"]
    for name, field in type_.fields.items():
        if _required_arguments(field):
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(name)
        elif depth > 1 and is_object_type(named):
            assert isinstance(named, GraphQLObjectType)
            parts.append(f"{name} {{ {_selection(named, depth - 1)} }}")
        elif depth > 1:
            parts.append(f"{name} {{ __typename }}")
    return " ".join(parts)


def test_the_fallback_executes_a_broad_query_without_errors(
    http: httpx.Client, server: SandboxServer
) -> None:
    schema = executable_schema()
    assert schema.query_type is not None
    roots = sorted(
        (name, field)
        for name, field in schema.query_type.fields.items()
        if not _required_arguments(field) and name not in NEEDS_SOME_ARGUMENT
    )
    assert len(roots) >= 20
    selections = []
    for name, field in roots:
        named = get_named_type(field.type)
        if is_leaf_type(named):
            selections.append(name)
        elif is_object_type(named):
            assert isinstance(named, GraphQLObjectType)
            selections.append(f"{name} {{ {_selection(named, 2)} }}")
        else:
            selections.append(f"{name} {{ __typename }}")
    query = "query broad { " + " ".join(selections) + " }"
    token = org_token(http, server)
    body = post(http, server, query, authorization=token)
    assert "errors" not in body, body["errors"][:3]
    assert set(body["data"]) == {name for name, _ in roots}
    assert all(value is not None for value in body["data"].values())
    # Same query, same answer: the fabricated data is deterministic. (The points budget moves
    # with every request, and the Fan Club discount with the hour.)
    again = post(http, server, query, authorization=token)
    live = {"rateLimitInfo", "getFanClubDiscount"}
    assert {k: v for k, v in again["data"].items() if k not in live} == {
        k: v for k, v in body["data"].items() if k not in live
    }
    mutation = """mutation {
      refreshQuote(input: {code: "Q-1"}) { __typename }
      decommissionSmartDevice(input: {deviceId: "d-1"}) { __typename }
    }"""
    body = post(http, server, mutation, authorization=token)
    assert "errors" not in body, body
    assert codes(post(http, server, mutation)) == ["KT-CT-1112", "KT-CT-1112"]


# -- the server itself ---------------------------------------------------------------------------


def test_the_server_binds_to_loopback_only() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.com"):  # noqa: S104
        with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
            SandboxServer(host)
        with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
            serve(host, 0)


def test_url_names_the_actual_port(server: SandboxServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert server.url.endswith("/v1/graphql/")
    assert not server.url.startswith("http://127.0.0.1:0/")
    assert schema_path().name == "schema.graphql"


@pytest.mark.slow
def test_serve_runs_in_the_foreground_and_prints_its_url_and_credentials(
    http: httpx.Client,
) -> None:
    command = [sys.executable, "-c", "from oeus_kraken.sandbox import serve; serve(port=0)"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            banner = [process.stdout.readline()]
            assert banner[0].startswith("oeus-kraken sandbox on http://127.0.0.1:"), banner
            while banner[-1] and not banner[-1].startswith("Faults"):
                banner.append(process.stdout.readline())
            url = banner[0].split()[3]
            body = http.post(url, json={"query": "{ products { code } }"}).json()
            assert body["data"]["products"]
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert DEMO_ORGANIZATION_SECRET_KEY in "".join(banner)
    assert DEMO_PASSWORD in "".join(banner)


def test_importing_the_sandbox_without_its_extra_says_how_to_install_it() -> None:
    code = (
        "import sys\n"
        "import oeus_kraken\n"
        "assert 'oeus_kraken.sandbox' not in sys.modules, 'oeus_kraken imported the sandbox'\n"
        "sys.modules['ariadne'] = None  # as if not installed\n"
        "try:\n"
        "    import oeus_kraken.sandbox\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('imported without ariadne')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'oeus-kraken[sandbox]'" in result.stdout


def test_our_client_works_against_the_sandbox(server: SandboxServer) -> None:
    credentials = oeus_kraken.OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)
    with oeus_kraken.SyncKrakenClient(server.url, credentials=credentials) as kraken:
        viewer = kraken.get_viewer().viewer
        assert viewer is not None
        assert viewer.accounts is not None
        numbers = [a.number for a in viewer.accounts if a is not None]
        assert numbers == [*DEMO_ACCOUNT_NUMBERS, OTHER_ACCOUNT_NUMBER]
        account = kraken.get_account(account_number=DEMO_ACCOUNT_NUMBERS[0]).account
        assert account is not None
        assert account.number == DEMO_ACCOUNT_NUMBERS[0]
        assert account.properties
        home = account.properties[0]
        assert home is not None
        assert home.electricity_meter_points is not None
        [meter_point] = home.electricity_meter_points
        assert meter_point is not None
        assert len(meter_point.mpan) == 17
        products = kraken.get_products().products
        assert products
        assert any(p is not None and p.code == "OCTOPUS-12M-FIXED" for p in products)
    # One token request served all three calls; the products call carried no token.
    assert server.stats.token_requests == 1


@pytest.mark.parametrize("as_text", [True, False], ids=["a str", "a Path"])
def test_the_schema_to_serve_may_be_named_by_a_str_or_a_path(as_text: bool) -> None:
    # The README's `SandboxServer(schema=path)`: a path as text works as a Path does.
    shipped = schema_path()
    with SandboxServer(schema=str(shipped) if as_text else shipped) as server:
        answer = httpx.post(server.url, json={"query": "{ getFanClubDiscount { discountAmount } }"})

    assert answer.status_code == 200
    assert "discountAmount" in answer.json()["data"]["getFanClubDiscount"]


@pytest.mark.skipif(sys.platform != "linux", reason="/dev/fd/N naming a pipe is the Linux way")
def test_an_introspection_result_through_a_pipe_is_served(tmp_path: Path) -> None:
    # `oeus-kraken sandbox --schema <(cat intro.json)`: the sandbox read the text to see it is
    # JSON, then read_schema_file read the path again and found the pipe empty ("Syntax Error:
    # Unexpected <EOF>"). The text read once is the schema (oeus_kraken.schema.schema_from_text).
    sdl = "type Query { hello: String }"
    text = json.dumps({"data": graphql.introspection_from_schema(graphql.build_schema(sdl))})
    reader, writer = os.pipe()
    feeding = threading.Thread(target=_write_and_close, args=(writer, text.encode()))
    feeding.start()
    try:
        schema = executable_schema(Path(f"/dev/fd/{reader}"))
    finally:
        feeding.join()
        os.close(reader)

    assert graphql.print_schema(schema) == graphql.print_schema(graphql.build_schema(sdl))


def _write_and_close(fd: int, data: bytes) -> None:
    with open(fd, "wb") as file:
        file.write(data)
