"""A local Kraken sandbox: a real GraphQL server executing our own schema.graphql, for trying and
testing the client with no network and no real credentials.

    from oeus_kraken import OrganizationSecretKey, SyncKrakenClient
    from oeus_kraken.sandbox import DEMO_ORGANIZATION_SECRET_KEY, SandboxServer

    with SandboxServer() as server:
        with SyncKrakenClient(
            server.url, credentials=OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)
        ) as kraken:
            print(kraken.get_viewer())

What it does like Kraken (see ../shared FACTS): `obtainKrakenToken` for email+password, API key,
organisation secret key and refresh token; HS256 JWTs with Kraken's claims; the Authorization
header as the bare token or `JWT <token>`; errors as HTTP 200 with `extensions.errorCode` KT-CT
codes; account users see only their own accounts (KT-CT-4177), organisations see all; the public
US queries (`products`, `productsWithConciseApplicableRates`, `tdspByPostalcode`) need no token.
Seeded Texas data backs `viewer`, `account` (properties, ESI IDs, ledgers with paginated
transactions) and the product and TDSP queries; every other field returns type-correct values
fabricated from the schema, so any valid query executes.

Sandbox conveniences with no known Kraken counterpart: `viewer` with an organisation token returns
an account-user-shaped record of the organisation listing every account; fault switches
(`SandboxServer.set_faults`, or POST /sandbox/faults) and request counters (`stats`).

Optional: needs the `sandbox` extra (ariadne, uvicorn). Importing `oeus_kraken` never imports it.
"""

from __future__ import annotations

try:
    import ariadne  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "oeus_kraken.sandbox needs the optional dependencies ariadne and uvicorn: "
        "pip install 'oeus-kraken[sandbox]'",
        name=exc.name,
    ) from exc

from ._app import GRAPHQL_PATH, SandboxApp, create_app
from ._auth import (
    DEFAULT_ACCESS_TOKEN_LIFETIME,
    DEFAULT_REFRESH_TOKEN_LIFETIME,
    SANDBOX_ISSUER,
    SANDBOX_SIGNING_KEY,
)
from ._banner import banner
from ._data import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_API_KEY,
    DEMO_EMAIL,
    DEMO_ORGANIZATION_SECRET_KEY,
    DEMO_PASSWORD,
    OTHER_ACCOUNT_NUMBER,
    OTHER_API_KEY,
    OTHER_EMAIL,
    OTHER_PASSWORD,
)
from ._errors import KrakenAPIError
from ._faults import Faults, SandboxStats
from ._schema import executable_schema, schema_path
from ._server import DEFAULT_PORT, LOOPBACK_HOST, SandboxServer, check_host, serve
from ._state import SandboxState

__all__ = [
    "DEFAULT_ACCESS_TOKEN_LIFETIME",
    "DEFAULT_PORT",
    "DEFAULT_REFRESH_TOKEN_LIFETIME",
    "DEMO_ACCOUNT_NUMBERS",
    "DEMO_API_KEY",
    "DEMO_EMAIL",
    "DEMO_ORGANIZATION_SECRET_KEY",
    "DEMO_PASSWORD",
    "GRAPHQL_PATH",
    "LOOPBACK_HOST",
    "OTHER_ACCOUNT_NUMBER",
    "OTHER_API_KEY",
    "OTHER_EMAIL",
    "OTHER_PASSWORD",
    "SANDBOX_ISSUER",
    "SANDBOX_SIGNING_KEY",
    "Faults",
    "KrakenAPIError",
    "SandboxApp",
    "SandboxServer",
    "SandboxState",
    "SandboxStats",
    "banner",
    "check_host",
    "create_app",
    "executable_schema",
    "schema_path",
    "serve",
]
