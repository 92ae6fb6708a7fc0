"""What every benchmarked client talks to: one `httpx.MockTransport` answering with fixed bytes.

Each client under test gets its own `httpx.Client` / `httpx.AsyncClient` over the same
`FakeKraken` handler, which answers a token request with a far-future Kraken JWT and every other
request with the response bytes of the case being measured. The handler does the same constant
work for every client, so differences between clients are differences in the clients.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

URL = "https://api.oeus-kraken.energy/v1/graphql/"
API_KEY = "sk_live_bench0000000000000000"
JWT_KEY = "bench-signing-key-not-a-secret-000000"

SMALL_ACCOUNTS = 1
# The size of the "big" answers: the 35 KB.
BIG_BYTES = 35_000
# getAccount with this many properties (each with a rich address and one meter point) is
# ~35 KB: a deep answer (four levels of models). getViewer reaches the same size with many
# accounts (viewer_accounts_for): a flat one (one list of small models).
BIG_PROPERTIES = 105
BIG_ACCOUNT_NUMBER = "A-1B2C3D4E"


def _compact(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def kraken_jwt(now: float | None = None) -> str:
    """A token shaped like a Kraken one, expiring in ten years: the client never refreshes it."""
    issued_at = int(time.time() if now is None else now)
    claims = {
        "sub": "kraken|account-user:123456",
        "gty": "API-KEY",
        "iss": URL,
        "iat": issued_at,
        "exp": issued_at + 10 * 365 * 24 * 3600,
    }
    return jwt.encode(claims, JWT_KEY, algorithm="HS256")


def token_body(token: str) -> bytes:
    claims = jwt.decode(token, options={"verify_signature": False})
    return _compact(
        {
            "data": {
                "obtainKrakenToken": {
                    "token": token,
                    "payload": claims,
                    "refreshToken": "bench-refresh-token-0000000000",
                    "refreshExpiresIn": claims["exp"],
                }
            }
        }
    )


def viewer_body(accounts: int) -> bytes:
    """A getViewer answer for an account user with `accounts` accounts."""
    statuses = ("ACTIVE", "ACTIVE", "ACTIVE", "PENDING", "WITHDRAWN")
    return _compact(
        {
            "data": {
                "viewer": {
                    "id": "123456",
                    "givenName": "Maria",
                    "familyName": "Hernandez",
                    "email": "maria.hernandez@example.com",
                    "accounts": [
                        {
                            "__typename": "AccountType",
                            "number": f"A-{0x1B2C3D4E + i:08X}",
                            "status": statuses[i % len(statuses)],
                            "balance": (i * 7919) % 50000 - 10000,
                        }
                        for i in range(accounts)
                    ],
                }
            }
        }
    )


def viewer_accounts_for(size: int) -> int:
    """The fewest accounts that make a getViewer answer of at least `size` bytes."""
    accounts = 1
    while len(viewer_body(accounts)) < size:
        accounts += 1
    return accounts


_STREETS = ("Westheimer Rd", "Main St", "Elm St", "Richmond Ave", "Montrose Blvd", "Kirby Dr")
_TOWNS = (
    ("Houston", "77002"),
    ("Dallas", "75201"),
    ("Austin", "78701"),
    ("Corpus Christi", "78401"),
    ("Fort Worth", "76102"),
)


def account_body(properties: int) -> bytes:
    """A getAccount answer for an account with `properties` properties, each with a rich
    address and one electricity meter point (its 22-digit ESI ID as `mpan`, and its agreement)."""
    props = []
    for i in range(properties):
        street = f"{100 + 37 * i} {_STREETS[i % len(_STREETS)]}, Apt {1 + i % 40}"
        town, postcode = _TOWNS[i % len(_TOWNS)]
        props.append(
            {
                "id": str(2_000_000 + i),
                "address": f"{street}, {town}, TX {postcode}",
                "postcode": postcode,
                "richAddress": {
                    "streetAddress": street,
                    "locality": town,
                    "administrativeArea": "TX",
                    "postalCode": postcode,
                    "country": "US",
                },
                "electricityMeterPoints": [
                    {
                        "id": str(3_000_000 + i),
                        "mpan": f"1008901{i:015d}",
                        "status": "ON_SUPPLY" if i % 9 else "PENDING_SUPPLY",
                        # getAccount asks when supply began (issue 22), as the sandbox answers.
                        "agreements": [{"validFrom": f"2023-{1 + i % 12:02d}-01T00:00:00-06:00"}],
                    }
                ],
            }
        )
    return _compact(
        {
            "data": {
                "account": {
                    "number": BIG_ACCOUNT_NUMBER,
                    "status": "ACTIVE",
                    "balance": 12345,
                    "properties": props,
                }
            }
        }
    )


@dataclass
class FakeKraken:
    """The handler of every client's MockTransport. `body` is what data requests get; the last
    request's JSON body is kept so the raw-httpx and gql runs send exactly what ours sent."""

    token: str
    body: bytes
    last_request: bytes = b""
    token_requests: int = 0

    def __post_init__(self) -> None:
        self._token_body = token_body(self.token)
        self._headers = {"content-type": "application/json"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        content = request.content
        self.last_request = content
        # The token mutation is the only request whose query names obtainKrakenToken.
        if b"obtainKrakenToken" in content:
            self.token_requests += 1
            body = self._token_body
        else:
            body = self.body
        return httpx.Response(200, content=body, headers=self._headers)

    async def answer_later(self, request: httpx.Request) -> httpx.Response:
        """The same answer after a turn of the event loop, as a network would give: concurrent
        calls then really overlap (and wait for one token request together)."""
        await asyncio.sleep(0)
        return self(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def overlapping_transport(self) -> httpx.MockTransport:
        """For async clients: answers after a turn of the loop (`answer_later`)."""
        return httpx.MockTransport(self.answer_later)

    def sent_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.last_request)
        return payload
