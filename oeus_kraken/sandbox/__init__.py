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
US queries (`products`, `productsWithConciseApplicableRates`, `tdspByPostalcode`,
`getFanClubDiscount`) need no token; `addressLookup` and `createQuote` need an organisation
(KT-CT-1111 for an account user). Per request, the complexity (KT-CT-1188) and node (KT-CT-1189)
caps, and per caller an hourly points budget read through `rateLimitInfo` (KT-CT-1199 once
spent): the formula is in `_limits.py`.

Seeded Texas data (`_data.py`): three accounts, five properties with ESI IDs (one account has three
properties, one is on a wholesale product), ledgers whose monthly charges price each meter's usage
at the account's product (`_charges.py`), payments and statements derived from them
(`_billing.py`), agreements naming each ESI ID's product (`_agreements.py`), products (flat,
time-of-use, wholesale, each with a monthly fee) and their rates per TDSP (at the PUCT's published
delivery charges) and load zone (`_rates.py`), premises for
address lookups (`_addresses.py`), quotes priced from those rates (`_quotes.py`), a year of
15-minute usage per ESI ID with late, revised and missing intervals (`_usage.py`), and a grid whose
wind share drives the Fan Club discount (`_grid.py`). Every other field returns type-correct values
fabricated from the schema, so any valid query executes.

Sandbox conveniences with no known Kraken counterpart: `viewer` with an organisation token returns
an account-user-shaped record of the organisation listing every account; fault switches
(`SandboxServer.set_faults`, or POST /sandbox/faults), including `points_allowance`; the usage
knobs (`SandboxServer.set_usage_churn`, `fill_usage_gap`, or POST /sandbox/usage); and request
counters (`stats`).

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

from ._app import GRAPHQL_PATH, MAX_BODY_BYTES, MAX_DOCUMENT_TOKENS, SandboxApp, create_app
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
from ._limits import COMPLEXITY_LIMIT, NODE_LIMIT, POINTS_PER_HOUR
from ._schema import executable_schema, schema_path
from ._server import DEFAULT_PORT, LOOPBACK_HOST, SandboxServer, check_host, serve
from ._state import SandboxState
from ._usage import (
    GAP_INTERVALS,
    GAP_START,
    INTERVAL_SECONDS,
    LATE_DELAY,
    MAX_MEASUREMENTS_PAGE,
    REVISION_DELAY,
    SEEDED_LATE_SHARE,
    USAGE_START,
    FeedSettings,
    publication_time,
)

__all__ = [
    "COMPLEXITY_LIMIT",
    "DEFAULT_ACCESS_TOKEN_LIFETIME",
    "DEFAULT_PORT",
    "DEFAULT_REFRESH_TOKEN_LIFETIME",
    "DEMO_ACCOUNT_NUMBERS",
    "DEMO_API_KEY",
    "DEMO_EMAIL",
    "DEMO_ORGANIZATION_SECRET_KEY",
    "DEMO_PASSWORD",
    "GAP_INTERVALS",
    "GAP_START",
    "GRAPHQL_PATH",
    "INTERVAL_SECONDS",
    "LATE_DELAY",
    "LOOPBACK_HOST",
    "MAX_BODY_BYTES",
    "MAX_DOCUMENT_TOKENS",
    "MAX_MEASUREMENTS_PAGE",
    "NODE_LIMIT",
    "OTHER_ACCOUNT_NUMBER",
    "OTHER_API_KEY",
    "OTHER_EMAIL",
    "OTHER_PASSWORD",
    "POINTS_PER_HOUR",
    "REVISION_DELAY",
    "SANDBOX_ISSUER",
    "SANDBOX_SIGNING_KEY",
    "SEEDED_LATE_SHARE",
    "USAGE_START",
    "Faults",
    "FeedSettings",
    "KrakenAPIError",
    "SandboxApp",
    "SandboxServer",
    "SandboxState",
    "SandboxStats",
    "banner",
    "check_host",
    "create_app",
    "executable_schema",
    "publication_time",
    "schema_path",
    "serve",
]
