"""What `oeus_kraken` exports, and that importing it stays cheap.

Users import everything from `oeus_kraken`, never from `oeus_kraken_generated`: the clients,
credentials and errors, and every result, input and enum model the operations use.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import oeus_kraken_generated

import oeus_kraken

EXPECTED_ALL = [
    # Hand-written.
    "PRODUCTION_URL",
    "TEST_URL",
    "APIConnectionError",
    "APIKey",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "CallKeywords",
    "CallOptions",
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
    # Generated from schema.graphql + queries/.
    "AccountPaymentStatusOptions",
    "AccountPaymentTransactionTypeChoices",
    "AccountStatus",
    "AcquireOauthTokens",
    "AcquireOauthTokensAcquireOauthTokens",
    "AddressLookupResult",
    "AddressLookupResultIsCustomer",
    "BillTypeEnum",
    "ConciseRate",
    "ConciseRatesInput",
    "CreateCustomerQuote",
    "CreateCustomerQuoteCustomerCreateQuote",
    "CreateCustomerQuoteCustomerCreateQuoteQuote",
    "CreateQuote",
    "CreateQuoteCreateQuote",
    "CreateQuoteCreateQuoteQuote",
    "CreateQuoteInput",
    "CreateSmartDeviceToken",
    "CreateSmartDeviceTokenCreateSmartDeviceToken",
    "EflFigures",
    "ElectricityFiltersInput",
    "ElectricityMeterPointConsumptionInput",
    "GasFiltersInput",
    "GasMeterPointConsumptionInput",
    "GetAccount",
    "GetAccountAccount",
    "GetAccountAccountProperties",
    "GetAccountAccountPropertiesElectricityMeterPoints",
    "GetAccountAccountPropertiesElectricityMeterPointsAgreements",
    "GetAccountAccountPropertiesRichAddress",
    "GetAccountAgreements",
    "GetAccountAgreementsAccount",
    "GetAccountAgreementsAccountElectricityAgreements",
    "GetAccountAgreementsAccountElectricityAgreementsMeterPoint",
    "GetAccountAgreementsAccountElectricityAgreementsTariffDayNightTariff",
    "GetAccountAgreementsAccountElectricityAgreementsTariffHalfHourlyTariff",
    "GetAccountAgreementsAccountElectricityAgreementsTariffPrepayTariff",
    "GetAccountAgreementsAccountElectricityAgreementsTariffStandardTariff",
    "GetAccountAgreementsAccountElectricityAgreementsTariffThreeRateTariff",
    "GetAccountBills",
    "GetAccountBillsAccount",
    "GetAccountBillsAccountBills",
    "GetAccountBillsAccountBillsEdges",
    "GetAccountBillsAccountBillsEdgesNodeBillInterface",
    "GetAccountBillsAccountBillsEdgesNodeStatementType",
    "GetAccountBillsAccountBillsEdgesNodeStatementTypeTotalCharges",
    "GetAccountBillsAccountBillsEdgesNodeStatementTypeTotalCredits",
    "GetAccountBillsAccountBillsPageInfo",
    "GetAccountLedgers",
    "GetAccountLedgersAccount",
    "GetAccountLedgersAccountLedgers",
    "GetAccountLedgersAccountLedgersTransactions",
    "GetAccountLedgersAccountLedgersTransactionsEdges",
    "GetAccountLedgersAccountLedgersTransactionsEdgesNode",
    "GetAccountLedgersAccountLedgersTransactionsEdgesNodeAmounts",
    "GetAccountLedgersAccountLedgersTransactionsPageInfo",
    "GetAccountPayments",
    "GetAccountPaymentsAccount",
    "GetAccountPaymentsAccountPayments",
    "GetAccountPaymentsAccountPaymentsEdges",
    "GetAccountPaymentsAccountPaymentsEdgesNode",
    "GetAccountPaymentsAccountPaymentsPageInfo",
    "GetDailyReadings",
    "GetDailyReadingsDailyReadings",
    "GetEflRatesForEsiId",
    "GetEflRatesForEsiIdProductsWithConciseApplicableRates",
    "GetEflRatesForEsiIdProductsWithConciseApplicableRatesAt1000Kwh",
    "GetEflRatesForEsiIdProductsWithConciseApplicableRatesAt2000Kwh",
    "GetEflRatesForEsiIdProductsWithConciseApplicableRatesAt500Kwh",
    "GetFanClubDiscount",
    "GetFanClubDiscountGetFanClubDiscount",
    "GetIntervalReadings",
    "GetIntervalReadingsIntervalReadings",
    "GetKrakenToken",
    "GetKrakenTokenObtainKrakenToken",
    "GetMeasurements",
    "GetMeasurementsAccount",
    "GetMeasurementsAccountProperties",
    "GetMeasurementsAccountPropertiesElectricityMeterPoints",
    "GetMeasurementsAccountPropertiesMeasurements",
    "GetProductRatesForEsiId",
    "GetProductRatesForEsiIdProducts",
    "GetProductRatesForEsiIdProductsRates",
    "GetProductRatesForEsiIdProductsRatesAgnosticRates",
    "GetProductRatesForEsiIdProductsRatesLoadZoneRates",
    "GetProductRatesForEsiIdProductsRatesTdspRates",
    "GetProducts",
    "GetProductsProducts",
    "GetProductsWithRates",
    "GetProductsWithRatesProductsWithConciseApplicableRates",
    "GetProductsWithRatesProductsWithConciseApplicableRatesRates",
    "GetPropertyMeasurements",
    "GetPropertyMeasurementsProperty",
    "GetPropertyMeasurementsPropertyElectricityMeterPoints",
    "GetPropertyMeasurementsPropertyMeasurements",
    "GetRateLimitInfo",
    "GetRateLimitInfoRateLimitInfo",
    "GetRateLimitInfoRateLimitInfoPointsAllowanceRateLimit",
    "GetRatesForEsiId",
    "GetRatesForEsiIdProductsWithConciseApplicableRates",
    "GetRatesForEsiIdProductsWithConciseApplicableRatesRates",
    "GetRatesForLoadZone",
    "GetRatesForLoadZoneProductsWithConciseApplicableRates",
    "GetRatesForLoadZoneProductsWithConciseApplicableRatesRates",
    "GetRatesForServiceProvider",
    "GetRatesForServiceProviderProductsWithConciseApplicableRates",
    "GetRatesForServiceProviderProductsWithConciseApplicableRatesRates",
    "GetRatesForUsage",
    "GetRatesForUsageProductsWithConciseApplicableRates",
    "GetRatesForUsageProductsWithConciseApplicableRatesRates",
    "GetTdspByPostalCode",
    "GetTdspByPostalCodeTdspByPostalcode",
    "GetViewer",
    "GetViewerViewer",
    "GetViewerViewerAccounts",
    "KrakenFlexDeviceTypes",
    "KrakenToken",
    "LinkedObjectType",
    "LoadZone",
    "LookupAddressByEsiId",
    "LookupAddressByEsiIdAddressLookup",
    "LookupAddressByStreetAddress",
    "LookupAddressByStreetAddressAddressLookup",
    "MeasurementPage",
    "MeasurementPageEdges",
    "MeasurementPageEdgesNodeIntervalMeasurementType",
    "MeasurementPageEdgesNodeIntervalMeasurementTypeMetaData",
    "MeasurementPageEdgesNodeIntervalMeasurementTypeMetaDataStatistics",
    "MeasurementPageEdgesNodeIntervalMeasurementTypeMetaDataStatisticsCostExclTax",
    "MeasurementPageEdgesNodeIntervalMeasurementTypeMetaDataStatisticsCostExclTaxPricePerUnit",
    "MeasurementPageEdgesNodeIntervalMeasurementTypeMetaDataStatisticsCostInclTax",
    "MeasurementPageEdgesNodeIntervalMeasurementTypeMetaDataStatisticsCostInclTaxPricePerUnit",
    "MeasurementPageEdgesNodeIntervalMeasurementTypeMetaDataUtilityFiltersElectricityFiltersOutput",
    "MeasurementPageEdgesNodeIntervalMeasurementTypeMetaDataUtilityFiltersEmbeddedElectricityFiltersOutput",
    "MeasurementPageEdgesNodeIntervalMeasurementTypeMetaDataUtilityFiltersGasFiltersOutput",
    "MeasurementPageEdgesNodeMeasurementInterface",
    "MeasurementPagePageInfo",
    "ObtainJSONWebTokenInput",
    "PaymentReasonOptions",
    "PositionInput",
    "ProductInput",
    "ProviderChoices",
    "QuoteAddressInput",
    "QuoteDetails",
    "QuoteDetailsQuotedProducts",
    "QuoteDetailsQuotedProductsEstimatedDetails",
    "QuoteDetailsQuotedProductsEstimatedDetailsApplicableRates",
    "QuoteDetailsQuotedProductsProduct",
    "QuotePaymentMethodChoices",
    "RateGroup",
    "RateGroupConsumptionRates",
    "RateGroupStandingRates",
    "RateUnitType",
    "ReadingDirectionType",
    "ReadingFrequencyType",
    "ReadingQualityType",
    "ReadingStatisticTypeEnum",
    "RefreshKrakenToken",
    "RefreshKrakenTokenObtainKrakenToken",
    "ServiceProvider",
    "Unit",
    "UpdateMetadata",
    "UpdateMetadataUpdateMetadata",
    "UpdateMetadataUpdateMetadataMetadata",
    "UsagePeriod",
    "UtilityFiltersInput",
]

# Generated names that are plumbing, not models: the clients (exported under their own names,
# from oeus_kraken._client) and their base classes, and the model base.
GENERATED_PLUMBING = {
    "KrakenClient",
    "SyncKrakenClient",
    "AsyncKrakenBaseClient",
    "KrakenBaseClient",
    "BaseModel",
}


def generated_models() -> dict[str, str]:
    """Every result, input and enum model the generated package defines, with its module."""
    return {
        name: module
        for name, module in oeus_kraken_generated._LAZY_IMPORTS.items()
        if name not in GENERATED_PLUMBING
    }


def test_no_generated_exceptions_module_ships() -> None:
    """The clients raise KrakenError only: ariadne-codegen's own exception classes are not
    generated (our base clients replace the ones that would raise them)."""
    import importlib.util

    assert importlib.util.find_spec("oeus_kraken_generated.exceptions") is None
    assert not [n for n in oeus_kraken_generated.__all__ if n.startswith("GraphQLClient")]


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter (nothing imported yet), outside the repository."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_all_is_exactly_the_intended_public_names() -> None:
    assert len(oeus_kraken.__all__) == len(set(oeus_kraken.__all__)), "duplicates in __all__"
    assert sorted(oeus_kraken.__all__) == sorted(EXPECTED_ALL)


def test_every_public_name_is_importable_from_oeus_kraken() -> None:
    # One test for the table: each name that does not resolve is named in the failure.
    missing = [name for name in EXPECTED_ALL if getattr(oeus_kraken, name, None) is None]
    assert missing == []


def test_generated_models_are_the_generated_classes_themselves() -> None:
    for name in generated_models():
        assert getattr(oeus_kraken, name) is getattr(oeus_kraken_generated, name), name


def test_every_generated_model_is_re_exported() -> None:
    """A new operation's result models must be importable from `oeus_kraken`."""
    models = generated_models()
    assert "GetViewer" in models  # the filter above does not drop the models themselves
    missing = sorted(set(models) - set(oeus_kraken.__all__))
    assert not missing, (
        f"generated models not exported by oeus_kraken: {missing}. Add them to "
        "oeus_kraken/__init__.py (the TYPE_CHECKING import from oeus_kraken_generated and "
        "__all__), and to EXPECTED_ALL in this test."
    )


def test_star_import_gives_every_public_name(tmp_path: Path) -> None:
    result = run_python(
        "import json\n"
        "namespace = {}\n"
        "exec('from oeus_kraken import *', namespace)\n"
        "print(json.dumps(sorted(k for k in namespace if k != '__builtins__')))\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == sorted(EXPECTED_ALL)


def test_dir_lists_every_public_name_before_it_is_loaded(tmp_path: Path) -> None:
    """A REPL's or an editor's completion (`oeus_kraken.<Tab>`), and help(), read dir(): the
    clients and models, loaded on first access, must be in it from the start."""
    result = run_python("import json, oeus_kraken; print(json.dumps(dir(oeus_kraken)))", tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(set(EXPECTED_ALL) - set(json.loads(result.stdout))) == []


def test_clients_import_in_a_fresh_interpreter(tmp_path: Path) -> None:
    result = run_python("from oeus_kraken import KrakenClient, SyncKrakenClient", tmp_path)
    assert result.returncode == 0, result.stderr


def modules_after(importing: str, tmp_path: Path) -> tuple[set[str], set[str]]:
    """The modules loaded in a fresh interpreter after `importing`, and after then using a model
    (`oeus_kraken.GetAccountLedgers`)."""
    result = run_python(
        "import json, sys\n"
        f"{importing}\n"
        "after_import = sorted(sys.modules)\n"
        "import oeus_kraken\n"
        "oeus_kraken.GetAccountLedgers\n"
        "print(json.dumps([after_import, sorted(sys.modules)]))\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    after_import, after_use = json.loads(result.stdout)
    return set(after_import), set(after_use)


def test_importing_oeus_kraken_does_not_load_the_model_modules(tmp_path: Path) -> None:
    """Models load on first use, so `import oeus_kraken` stays fast as operations are added."""
    model_modules = sorted(
        {f"oeus_kraken_generated{module}" for module in generated_models().values()}
    )
    assert "oeus_kraken_generated.get_account_ledgers" in model_modules
    after_import, after_use = modules_after("import oeus_kraken", tmp_path)

    loaded_eagerly = sorted(set(model_modules) & after_import)
    assert not loaded_eagerly, f"`import oeus_kraken` loaded model modules: {loaded_eagerly}"
    # ... and the check above can see them: first use of a model loads its module.
    assert "oeus_kraken_generated.get_account_ledgers" in after_use


def test_importing_the_clients_loads_none_of_pydantics_model_machinery(tmp_path: Path) -> None:
    """pydantic.BaseModel costs about 40 ms to import; it is loaded by the first model, not by
    `from oeus_kraken import KrakenClient, SyncKrakenClient`."""
    after_import, after_use = modules_after(
        "from oeus_kraken import KrakenClient, SyncKrakenClient", tmp_path
    )
    machinery = {"pydantic.main", "oeus_kraken_generated.base_model"}
    assert not machinery & after_import
    assert machinery <= after_use  # ... which the check above would see


def test_unset_is_one_marker_wherever_it_is_imported_from() -> None:
    from oeus_kraken_generated import base_model

    import oeus_kraken.unset

    assert base_model.UNSET is oeus_kraken.unset.UNSET
    assert base_model.UnsetType is oeus_kraken.unset.UnsetType
    clients = (oeus_kraken.KrakenClient, oeus_kraken.SyncKrakenClient)
    assert all(client.kraken_unset is oeus_kraken.unset.UNSET for client in clients)
    assert not oeus_kraken.unset.UNSET
