"""The local Kraken sandbox (oeus_kraken.sandbox), specified with raw HTTP requests.

One server runs for the whole module (building the executable schema takes a second or two); an
autouse fixture resets its faults, counters, tokens and clock before each test. Requests go
through plain httpx, not through our client, so these tests pin down what the server does; one
smoke test at the end drives it with SyncKrakenClient.
"""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

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
    OTHER_ACCOUNT_NUMBER,
    OTHER_EMAIL,
    OTHER_PASSWORD,
    SANDBOX_ISSUER,
    SANDBOX_SIGNING_KEY,
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
    """The server's clock: real time plus an offset a test can move."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

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
    clock.offset = 0.0
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
    assert oncor["serviceProviderConsumptionRate"] == "5.60320"
    # energy + delivery per kWh + the TDSP's monthly charge spread over 1000 kWh
    assert oncor["totalApplicableRate"] == "20.22770"
    assert oncor["totalApplicableDayRate"] is None
    assert [r["serviceProvider"] for r in rates({"loadZone": "LZ_SOUTH"})] == [
        "AEP_TCC",
        "AEP_TNC",
    ]
    [by_esi_id] = rates({"esiId": "10089010023806217"})
    assert by_esi_id["serviceProvider"] == "CENTERPOINT"
    [heavy] = rates({"serviceProvider": "ONCOR", "kwhUsage": "2000"})
    assert heavy["totalApplicableRate"] == "20.01620"


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


def test_graphql_validation_errors_are_http_200_with_kraken_shape(
    http: httpx.Client, server: SandboxServer
) -> None:
    body = post(http, server, "{ products { noSuchField } }")
    assert body["errors"][0]["extensions"]["errorType"] == "VALIDATION"


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
