"""Typed client for the Octopus Energy USA Kraken GraphQL API.

    from oeus_kraken import KrakenClient, OrganizationSecretKey, TEST_URL

    async with KrakenClient(TEST_URL, credentials=OrganizationSecretKey("sk_live_...")) as kraken:
        viewer = await kraken.get_viewer()

Everything a user needs is importable from here: the two clients, the credentials, the errors, and
the result, input and enum models generated from the schema (loaded on first use, to keep
`import oeus_kraken` fast).
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

from ._config import PRODUCTION_URL, TEST_URL
from ._credentials import APIKey, Credentials, EmailPassword, OrganizationSecretKey, RefreshToken
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    GraphQLError,
    InvalidResponseError,
    KrakenError,
    PermissionDeniedError,
    QueryTooLargeError,
    RateLimitError,
)
from ._pagination import apaginate, paginate
from ._token_store import FileTokenStore, StoredTokens, TokenStore
from ._tokens import TokenInfo
from ._version import __version__ as __version__  # public, though not in __all__

if TYPE_CHECKING:
    from oeus_kraken_generated import (
        AccountStatus,
        ConciseRatesInput,
        GetAccount,
        GetAccountAccount,
        GetAccountAccountProperties,
        GetAccountAccountPropertiesElectricityMeterPoints,
        GetAccountAccountPropertiesRichAddress,
        GetAccountLedgers,
        GetAccountLedgersAccount,
        GetAccountLedgersAccountLedgers,
        GetAccountLedgersAccountLedgersTransactions,
        GetAccountLedgersAccountLedgersTransactionsEdges,
        GetAccountLedgersAccountLedgersTransactionsEdgesNode,
        GetAccountLedgersAccountLedgersTransactionsEdgesNodeAmounts,
        GetAccountLedgersAccountLedgersTransactionsPageInfo,
        GetKrakenToken,
        GetKrakenTokenObtainKrakenToken,
        GetProducts,
        GetProductsProducts,
        GetProductsWithRates,
        GetProductsWithRatesProductsWithConciseApplicableRates,
        GetProductsWithRatesProductsWithConciseApplicableRatesRates,
        GetTdspByPostalCode,
        GetTdspByPostalCodeTdspByPostalcode,
        GetViewer,
        GetViewerViewer,
        GetViewerViewerAccounts,
        KrakenToken,
        LoadZone,
        ObtainJSONWebTokenInput,
        ProductInput,
        RefreshKrakenToken,
        RefreshKrakenTokenObtainKrakenToken,
        ServiceProvider,
    )

    from ._auth import KrakenAuth
    from ._client import KrakenClient, SyncKrakenClient

__all__ = [  # noqa: RUF022 (grouped: hand-written names, then generated models)
    "PRODUCTION_URL",
    "TEST_URL",
    "APIConnectionError",
    "APIKey",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "ConfigurationError",
    "Credentials",
    "EmailPassword",
    "FileTokenStore",
    "GraphQLError",
    "InvalidResponseError",
    "KrakenAuth",
    "KrakenClient",
    "KrakenError",
    "OrganizationSecretKey",
    "PermissionDeniedError",
    "QueryTooLargeError",
    "RateLimitError",
    "RefreshToken",
    "StoredTokens",
    "SyncKrakenClient",
    "TokenInfo",
    "TokenStore",
    "apaginate",
    "paginate",
    # Generated from schema.graphql + queries/ (tests/test_public_api.py fails when an operation
    # adds a model that is missing here).
    "AccountStatus",
    "ConciseRatesInput",
    "GetAccount",
    "GetAccountAccount",
    "GetAccountAccountProperties",
    "GetAccountAccountPropertiesElectricityMeterPoints",
    "GetAccountAccountPropertiesRichAddress",
    "GetAccountLedgers",
    "GetAccountLedgersAccount",
    "GetAccountLedgersAccountLedgers",
    "GetAccountLedgersAccountLedgersTransactions",
    "GetAccountLedgersAccountLedgersTransactionsEdges",
    "GetAccountLedgersAccountLedgersTransactionsEdgesNode",
    "GetAccountLedgersAccountLedgersTransactionsEdgesNodeAmounts",
    "GetAccountLedgersAccountLedgersTransactionsPageInfo",
    "GetKrakenToken",
    "GetKrakenTokenObtainKrakenToken",
    "GetProducts",
    "GetProductsProducts",
    "GetProductsWithRates",
    "GetProductsWithRatesProductsWithConciseApplicableRates",
    "GetProductsWithRatesProductsWithConciseApplicableRatesRates",
    "GetTdspByPostalCode",
    "GetTdspByPostalCodeTdspByPostalcode",
    "GetViewer",
    "GetViewerViewer",
    "GetViewerViewerAccounts",
    "KrakenToken",
    "LoadZone",
    "ObtainJSONWebTokenInput",
    "ProductInput",
    "RefreshKrakenToken",
    "RefreshKrakenTokenObtainKrakenToken",
    "ServiceProvider",
]

# A library logs; the application decides where records go (none by default, not stderr).
logging.getLogger("oeus_kraken").addHandler(logging.NullHandler())

# Loaded on first access by __getattr__ below: the clients and the auth (the generated package
# they come from imports oeus_kraken.scalars and oeus_kraken.base, so it must be importable while
# this package initialises), and the generated models (so that `import oeus_kraken` does not
# build a model class per schema type up front).
_HAND_WRITTEN = {
    "KrakenClient": "oeus_kraken._client",
    "SyncKrakenClient": "oeus_kraken._client",
    "KrakenAuth": "oeus_kraken._auth",
}
_LAZY = frozenset(__all__) - frozenset(globals())


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'oeus_kraken' has no attribute {name!r}")
    module = _HAND_WRITTEN.get(name, "oeus_kraken_generated")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
