"""Every generated operation, through both clients: what goes on the wire, and what comes back.

Each operation must send exactly its `operationName`, the document written in queries/*.graphql
(plus the fragments it spreads), and its variables in the API's spelling; and its answer must
parse into the generated models with Python types (Decimal, datetime, date, enums, int cents).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import graphql
import pytest
from auth_helpers import FakeKraken, token_response
from conftest import build_client, call, close_client

import oeus_kraken
from oeus_kraken import (
    TEST_URL,
    AccountPaymentStatusOptions,
    AccountStatus,
    APIKey,
    ConciseRatesInput,
    CreateQuoteInput,
    Credentials,
    ElectricityFiltersInput,
    ElectricityMeterPointConsumptionInput,
    EmailPassword,
    KrakenFlexDeviceTypes,
    LinkedObjectType,
    LoadZone,
    ObtainJSONWebTokenInput,
    OrganizationSecretKey,
    ProductInput,
    ProviderChoices,
    RefreshToken,
    ServiceProvider,
    UtilityFiltersInput,
)

ROOT = Path(__file__).resolve().parent.parent

# Realistic Texas data. None of these are real credentials or customers.
SECRET_KEY = "sk_test_not_a_real_organization_key"
ACCOUNT_NUMBER = "A-1B2C3D4E"
ESI_ID = "10443720000000001"  # an Oncor ESI ID: 17 digits, kept as a string
CENTRAL_DAYLIGHT = timezone(timedelta(hours=-5), "CDT")
CENTRAL_STANDARD = timezone(timedelta(hours=-6), "CST")

VIEWER = {
    "viewer": {
        "id": "184726",
        "givenName": "Maria",
        "familyName": "Garcia",
        "email": "maria.garcia@example.com",
        # Balances are integer cents.
        "accounts": [
            {
                "__typename": "AccountType",
                "number": ACCOUNT_NUMBER,
                "status": "ACTIVE",
                "balance": 12345,
            },
            {
                "__typename": "AccountType",
                "number": "A-5F6A7B8C",
                "status": "WITHDRAWN",
                "balance": -2050,
            },
        ],
    }
}

ACCOUNT = {
    "account": {
        "number": ACCOUNT_NUMBER,
        "status": "ACTIVE",
        "balance": 12345,
        "properties": [
            {
                "id": "559031",
                "address": "4500 Belt Line Rd\nAddison, TX 75001",
                "postcode": "75001",
                "richAddress": {
                    "streetAddress": "4500 Belt Line Rd",
                    "locality": "Addison",
                    "administrativeArea": "TX",
                    "postalCode": "75001",
                    "country": "US",
                },
                "electricityMeterPoints": [
                    {
                        "id": "771204",
                        "mpan": ESI_ID,
                        "status": "ON_SUPPLY",
                        "agreements": [{"validFrom": "2024-03-01T00:00:00-06:00"}],
                    }
                ],
            }
        ],
    }
}

LEDGERS = {
    "account": {
        "number": ACCOUNT_NUMBER,
        "ledgers": [
            {
                "id": "90211",
                "number": "L-9A8B7C6D",
                "name": "Main account",
                "ledgerType": "MAIN_LEDGER",
                "balance": 12345,
                "transactions": {
                    "totalCount": 27,
                    "pageInfo": {"hasNextPage": True, "endCursor": "YXJyYXljb25uZWN0aW9uOjE="},
                    "edges": [
                        {
                            "cursor": "YXJyYXljb25uZWN0aW9uOjA=",
                            "node": {
                                "__typename": "Charge",
                                "id": "-3301",
                                "postedDate": "2025-05-31",
                                "createdAt": "2025-06-01T05:12:44.123456+00:00",
                                "title": "Energy charges",
                                "amounts": {"net": 9876, "tax": 0, "gross": 9876},
                            },
                        },
                        {
                            "cursor": "YXJyYXljb25uZWN0aW9uOjE=",
                            "node": {
                                "__typename": "Payment",
                                "id": "-3302",
                                "postedDate": "2025-06-03",
                                "createdAt": "2025-06-03T14:00:00+00:00",
                                "title": "Payment",
                                "amounts": {"net": -9876, "tax": 0, "gross": -9876},
                            },
                        },
                    ],
                },
            }
        ],
    }
}

PRODUCTS = {
    "products": [
        {
            "id": "1207",
            "code": "OCTOPUS-12M-FIXED-0125",
            "displayName": "Octopus 12",
            "fullName": "Octopus 12 Month Fixed",
            "description": "A fixed rate for 12 months.",
            "term": 12,
            "prepay": False,
            "basedOnTimeOfUse": False,
            "isWholesale": False,
            "availableFrom": "2025-01-01T00:00:00-06:00",
            "availableTo": None,
            "generationCredit": "0.03500",
        }
    ]
}

PRODUCTS_WITH_RATES = {
    "productsWithConciseApplicableRates": [
        {
            "id": "1207",
            "displayName": "Octopus 12",
            "fullName": "Octopus 12 Month Fixed",
            "description": "A fixed rate for 12 months.",
            "term": 12,
            "prepay": False,
            "rates": [
                {
                    "serviceProvider": "ONCOR",
                    "loadZone": "LZ_NORTH",
                    "kwhUsage": "1000",
                    "totalApplicableRate": "20.00380",
                    "totalApplicableRateWithMonthlySubscriptionFees": "20.99380",
                    "serviceProviderConsumptionRate": "5.55140",
                    "serviceProviderStandingRate": "4.23000",
                    "loadZoneConsumptionRate": "13.50000",
                }
            ],
        }
    ]
}

TDSP_HOUSTON = {"tdspByPostalcode": [{"serviceProvider": "CENTERPOINT", "loadZone": "LZ_HOUSTON"}]}

# -- the US surface ------------------------------------------------------------------------------

PROPERTY_ID = "559031"
CURSOR = "bWVhc3VyZW1lbnQ6MTc3Mjk0OTYwMA=="
OAUTH_STATE = "9fe2c4e93f654fdbb24c02b15259716c"


def _money(amount: str, per_kwh: str) -> dict[str, Any]:
    return {
        "estimatedAmount": amount,
        "costCurrency": "USD",
        "pricePerUnit": {"amount": per_kwh, "unit": "KILOWATT_HOURS"},
    }


# One interval of the spring-forward day, on a wholesale agreement (so with its cost in cents).
MEASUREMENT_PAGE = {
    "totalCount": 92,
    "pageInfo": {"hasNextPage": True, "endCursor": CURSOR},
    "edges": [
        {
            "cursor": CURSOR,
            "node": {
                "__typename": "IntervalMeasurementType",
                "startAt": "2026-03-08T00:00:00-06:00",
                "endAt": "2026-03-08T00:15:00-06:00",
                "durationInSeconds": 900,
                "value": "0.318",
                "unit": "kwh",
                "source": "ERCOT_AMS",
                "readAt": "2026-03-08T04:00:00-06:00",
                "metaData": {
                    "utilityFilters": {
                        "__typename": "ElectricityFiltersOutput",
                        "marketSupplyPointId": ESI_ID,
                        "readingDirection": "CONSUMPTION",
                        "readingQuality": "ACTUAL",
                        "readingFrequencyType": "RAW_INTERVAL",
                    },
                    "statistics": [
                        {
                            "type": "CONSUMPTION_COST",
                            "label": "Consumption cost",
                            "value": "0.318",
                            "costExclTax": _money("3.3314", "10.4760"),
                            "costInclTax": _money("3.3979", "10.6852"),
                        }
                    ],
                },
            },
        }
    ],
}
METER_POINTS = [{"mpan": ESI_ID}]
MEASUREMENTS = {
    "account": {
        "number": ACCOUNT_NUMBER,
        "properties": [
            {
                "id": PROPERTY_ID,
                "electricityMeterPoints": METER_POINTS,
                "measurements": MEASUREMENT_PAGE,
            }
        ],
    }
}
PROPERTY_MEASUREMENTS = {
    "property": {
        "id": PROPERTY_ID,
        "electricityMeterPoints": METER_POINTS,
        "measurements": MEASUREMENT_PAGE,
    }
}
INTERVAL_READINGS = {
    "intervalReadings": [
        {
            "meterPointId": ESI_ID,
            "fromDatetime": "2026-08-01T00:00:00-05:00",
            "toDatetime": "2026-08-01T00:15:00-05:00",
            "consumption": "0.472",
            "price": "3.5728",
        }
    ]
}
DAILY_READINGS = {
    "dailyReadings": [
        {
            "meterPointId": ESI_ID,
            "readAt": "2026-08-02T00:00:00-05:00",
            "meterReading": "32518.422",
            "dailyUsage": "53.257",
            "source": "ERCOT_AMS",
        }
    ]
}
PREMISE = {
    "esiId": ESI_ID,
    "houseNumber": "4500",
    "address": "4500 Belt Line Rd",
    "address2": None,
    "city": "Addison",
    "state": "TX",
    "postCode": "75001",
    "serviceProvider": "ONCOR",
    "loadZone": "LZ_NORTH",
    "isCustomer": {"isOeCustomer": True},
}
CONCISE_RATE = {
    "serviceProvider": "ONCOR",
    "loadZone": "LZ_NORTH",
    "kwhUsage": "1500",
    "totalApplicableRate": "20.08420",
    "totalApplicableRateWithMonthlySubscriptionFees": "20.08420",
    "totalApplicableDayRate": None,
    "totalApplicableNightRate": None,
    "totalApplicableDayRateWithMonthlySubscriptionFees": None,
    "totalApplicableNightRateWithMonthlySubscriptionFees": None,
    "serviceProviderConsumptionRate": "5.60320",
    "serviceProviderConsumptionRateUnitType": "KWH_CONSUMPTION",
    "serviceProviderStandingRate": "423.00000",
    "serviceProviderStandingRateUnitType": "MONTHS_ON_SUPPLY",
    "loadZoneConsumptionRate": "14.20150",
    "loadZoneConsumptionRateUnitType": "KWH_CONSUMPTION",
    "loadZoneDayTimeConsumptionRate": None,
    "loadZoneDayTimeRateUnitType": None,
    "loadZoneNightTimeConsumptionRate": None,
    "loadZoneNightTimeRateUnitType": None,
}
CONCISE_RATES = {
    "productsWithConciseApplicableRates": [
        {**PRODUCTS_WITH_RATES["productsWithConciseApplicableRates"][0], "rates": [CONCISE_RATE]}
    ]
}
QUOTE = {
    "quoteId": "880001",
    "code": "Q-D6D81",
    "postcode": "75001",
    "quotedProducts": [
        {
            "id": "880001-1207",
            "name": "Octopus 12",
            "recommended": True,
            "monthlyAmount": 23432,
            "annualAmount": 281179,
            "expiresAt": "2027-01-01T04:35:11+00:00",
            "serviceProvider": "ONCOR",
            "loadZone": "LZ_NORTH",
            "product": {
                "id": "1207",
                "code": "OCTOPUS-12M-FIXED-0125",
                "displayName": "Octopus 12",
                "fullName": "Octopus 12 Month Fixed",
                "description": "A fixed rate for 12 months.",
                "term": 12,
            },
            "estimatedDetails": {
                "kwhUsage": "14000",
                "usagePeriod": "ANNUALLY",
                "dayPercentage": "100",
                "nightPercentage": "0",
                "monthlyCostEstimate": "23431.61",
                "annualCostEstimate": "281179.32",
                "applicableRates": {
                    key: CONCISE_RATE[key]
                    for key in (
                        "serviceProvider",
                        "loadZone",
                        "kwhUsage",
                        "totalApplicableRate",
                        "totalApplicableRateWithMonthlySubscriptionFees",
                        "totalApplicableDayRate",
                        "totalApplicableNightRate",
                        "serviceProviderConsumptionRate",
                        "serviceProviderStandingRate",
                        "loadZoneConsumptionRate",
                    )
                },
            },
        }
    ],
}
PAGE_INFO = {"hasNextPage": True, "endCursor": "YXJyYXljb25uZWN0aW9uOjA="}
PAYMENTS = {
    "account": {
        "number": ACCOUNT_NUMBER,
        "payments": {
            "totalCount": 24,
            "pageInfo": PAGE_INFO,
            "edges": [
                {
                    "node": {
                        "id": "700056",
                        "status": "CLEARED",
                        "amount": 19011,
                        "paymentDate": "2025-12-17",
                        "reference": "PMT-1B2C3D4E-700056",
                        "transactionType": "DD_REGULAR_COLLECTION",
                        "surchargeAmount": 0,
                    }
                }
            ],
        },
    }
}
BILLS = {
    "account": {
        "number": ACCOUNT_NUMBER,
        "bills": {
            "totalCount": 24,
            "pageInfo": PAGE_INFO,
            "edges": [
                {
                    "node": {
                        "__typename": "StatementType",
                        "id": "1700055",
                        "billType": "STATEMENT",
                        "fromDate": "2025-11-01",
                        "toDate": "2025-11-30",
                        "issuedDate": "2025-12-03",
                        "temporaryUrl": "https://example.com/bills/1700055.pdf",
                        "paymentDueDate": "2025-12-24",
                        "openingBalance": -16054,
                        "closingBalance": -10911,
                        "totalCharges": {"netTotal": 18639, "taxTotal": 372, "grossTotal": 19011},
                        "totalCredits": {"netTotal": 700, "taxTotal": 0, "grossTotal": 700},
                    }
                }
            ],
        },
    }
}


# A plan comparison's answers: one product's rates in parts at an Oncor ESI ID (time of use: day
# and night energy rates, the TDSP's delivery charges, a monthly subscription fee), one product's
# EFL figures at 500, 1,000 and 2,000 kWh, and the account's agreement naming its product.
def _rate(price: str, unit: str, band: str, **fields: Any) -> dict[str, Any]:
    return {"pricePerUnit": price, "unitType": unit, "band": band, **fields}


PRODUCT_RATES = {
    "products": [
        {
            "id": "40",
            "code": "INTELLIGENT-OCTOPUS-12M",
            "displayName": "Octo 12 with Intelligent Octopus",
            "fullName": "Intelligent Octopus 12 Month Fixed",
            "term": 12,
            "prepay": False,
            "basedOnTimeOfUse": True,
            "isWholesale": False,
            "rates": {
                "tdspRates": {
                    "consumptionRates": [
                        _rate("4.54030", "KWH_CONSUMPTION", "DELIVERY", timeOfUse="ALL_DAY",
                              serviceProvider="ONCOR", loadZone="LZ_NORTH"),
                    ],
                    "standingRates": [
                        _rate("423.00000", "MONTHS_ON_SUPPLY", "DELIVERY",
                              serviceProvider="ONCOR", loadZone="LZ_NORTH"),
                    ],
                },
                "loadZoneRates": {
                    "consumptionRates": [
                        _rate("15.65000", "KWH_CONSUMPTION", "ENERGY", timeOfUse="DAY",
                              serviceProvider=None, loadZone="LZ_NORTH"),
                        _rate("7.50000", "KWH_CONSUMPTION", "ENERGY", timeOfUse="NIGHT",
                              serviceProvider=None, loadZone="LZ_NORTH"),
                    ],
                    "standingRates": [],
                },
                "agnosticRates": {
                    "consumptionRates": [],
                    "standingRates": [
                        _rate("500.00000", "MONTHS_ON_SUPPLY", "SUBSCRIPTION",
                              serviceProvider=None, loadZone=None),
                    ],
                },
            },
        }
    ]
}  # fmt: skip
EFL_RATES = {
    "productsWithConciseApplicableRates": [
        {
            "id": "21",
            "displayName": "Octopus 12M Fixed",
            "at500Kwh": [{**CONCISE_RATE, "kwhUsage": "500", "totalApplicableRate": "19.58780"}],
            "at1000Kwh": [{**CONCISE_RATE, "kwhUsage": "1000", "totalApplicableRate": "19.16480"}],
            "at2000Kwh": [{**CONCISE_RATE, "kwhUsage": "2000", "totalApplicableRate": "18.95330"}],
        }
    ]
}
AGREEMENTS = {
    "account": {
        "number": ACCOUNT_NUMBER,
        "electricityAgreements": [
            {
                "id": 5101,
                "validFrom": "2024-12-01T00:00:00-06:00",
                "validTo": None,
                "meterPoint": {"mpan": ESI_ID},
                "tariff": {
                    "__typename": "StandardTariff",
                    "productCode": "OCTOPUS-12M-FIXED",
                    "displayName": "Octopus 12M Fixed",
                    "fullName": "Octopus 12 Month Fixed",
                    "tariffCode": "OCTOPUS-12M-FIXED-ONCOR",
                },
            }
        ],
    }
}


@dataclass(frozen=True)
class Operation:
    """One call of an operation method, what it must send, and an answer for it."""

    method: str
    operation_name: str
    model: str  # the result class, as exported by oeus_kraken
    kwargs: dict[str, Any]
    variables: dict[str, Any]  # exactly what must be sent
    data: dict[str, Any] = field(repr=False)
    public: bool = False  # sent without an Authorization header


OPERATIONS = [
    Operation(
        "get_kraken_token",
        "getKrakenToken",
        "GetKrakenToken",
        {"input": ObtainJSONWebTokenInput(organization_secret_key=SECRET_KEY)},
        {"input": {"organizationSecretKey": SECRET_KEY}},
        token_response()["data"],
        public=True,
    ),
    Operation(
        "refresh_kraken_token",
        "refreshKrakenToken",
        "RefreshKrakenToken",
        {"input": ObtainJSONWebTokenInput(refresh_token="fake-refresh-token")},
        {"input": {"refreshToken": "fake-refresh-token"}},
        token_response()["data"],
        public=True,
    ),
    Operation("get_viewer", "getViewer", "GetViewer", {}, {}, VIEWER),
    Operation(
        "get_account",
        "getAccount",
        "GetAccount",
        {"account_number": ACCOUNT_NUMBER},
        {"accountNumber": ACCOUNT_NUMBER},
        ACCOUNT,
    ),
    Operation(
        "get_account_ledgers",
        "getAccountLedgers",
        "GetAccountLedgers",
        {"account_number": ACCOUNT_NUMBER, "first": 20, "after": "YXJyYXljb25uZWN0aW9uOjE5"},
        # ledgerNumber was not given: omitted, not sent as null.
        {"accountNumber": ACCOUNT_NUMBER, "first": 20, "after": "YXJyYXljb25uZWN0aW9uOjE5"},
        LEDGERS,
    ),
    Operation(
        "get_products",
        "getProducts",
        "GetProducts",
        {"available_at": datetime(2025, 6, 1, tzinfo=CENTRAL_DAYLIGHT), "prepay": False},
        {"availableAt": "2025-06-01T00:00:00-05:00", "prepay": False},
        PRODUCTS,
        public=True,
    ),
    Operation(
        "get_products_with_rates",
        "getProductsWithRates",
        "GetProductsWithRates",
        {
            "filter_products_by": ProductInput(display_name="Octopus 12"),
            "filter_rates_by": ConciseRatesInput(
                service_provider=ServiceProvider.ONCOR,
                load_zone=LoadZone.LZ_NORTH,
                kwh_usage=Decimal("1500.5"),
            ),
        },
        {
            "filterProductsBy": {"displayName": "Octopus 12"},
            "filterRatesBy": {
                "serviceProvider": "ONCOR",
                "loadZone": "LZ_NORTH",
                "kwhUsage": "1500.5",
            },
        },
        PRODUCTS_WITH_RATES,
        public=True,
    ),
    Operation(
        "get_tdsp_by_postal_code",
        "getTdspByPostalCode",
        "GetTdspByPostalCode",
        {"postal_code": "77002"},
        {"postalCode": "77002"},
        TDSP_HOUSTON,
        public=True,
    ),
]
OPERATIONS += [
    Operation(
        "get_measurements",
        "getMeasurements",
        "GetMeasurements",
        {
            "account_number": ACCOUNT_NUMBER,
            "first": 100,
            "start_on": date(2026, 3, 8),
            "end_on": date(2026, 3, 8),
            "utility_filters": [
                UtilityFiltersInput(
                    electricity_filters=ElectricityFiltersInput(market_supply_point_id=ESI_ID)
                )
            ],
        },
        # timezone was not given: left out, so the operation's own default (America/Chicago)
        # applies; the filter sends only the field set, not the schema's defaults.
        {
            "accountNumber": ACCOUNT_NUMBER,
            "first": 100,
            "startOn": "2026-03-08",
            "endOn": "2026-03-08",
            "utilityFilters": [{"electricityFilters": {"marketSupplyPointId": ESI_ID}}],
        },
        MEASUREMENTS,
    ),
    Operation(
        "get_property_measurements",
        "getPropertyMeasurements",
        "GetPropertyMeasurements",
        {
            "property_id": PROPERTY_ID,
            "first": 50,
            "after": CURSOR,
            "start_at": datetime(2026, 3, 8, tzinfo=CENTRAL_STANDARD),
            "end_at": datetime(2026, 3, 9, tzinfo=CENTRAL_DAYLIGHT),
            "timezone": "America/Chicago",
        },
        {
            "propertyId": PROPERTY_ID,
            "first": 50,
            "after": CURSOR,
            "startAt": "2026-03-08T00:00:00-06:00",
            "endAt": "2026-03-09T00:00:00-05:00",
            "timezone": "America/Chicago",
        },
        PROPERTY_MEASUREMENTS,
    ),
    Operation(
        "get_interval_readings",
        "getIntervalReadings",
        "GetIntervalReadings",
        {
            "account_number": ACCOUNT_NUMBER,
            "esi_id": ESI_ID,
            "from_datetime": datetime(2026, 8, 1, tzinfo=CENTRAL_DAYLIGHT),
            "to_datetime": datetime(2026, 8, 2, tzinfo=CENTRAL_DAYLIGHT),
        },
        {
            "accountNumber": ACCOUNT_NUMBER,
            "esiId": ESI_ID,
            "fromDatetime": "2026-08-01T00:00:00-05:00",
            "toDatetime": "2026-08-02T00:00:00-05:00",
        },
        INTERVAL_READINGS,
    ),
    Operation(
        "get_daily_readings",
        "getDailyReadings",
        "GetDailyReadings",
        {
            "account_number": ACCOUNT_NUMBER,
            "esi_id": ESI_ID,
            "from_datetime": datetime(2026, 8, 1, tzinfo=CENTRAL_DAYLIGHT),
            "to_datetime": datetime(2026, 9, 1, tzinfo=CENTRAL_DAYLIGHT),
        },
        {
            "accountNumber": ACCOUNT_NUMBER,
            "esiId": ESI_ID,
            "fromDatetime": "2026-08-01T00:00:00-05:00",
            "toDatetime": "2026-09-01T00:00:00-05:00",
        },
        DAILY_READINGS,
    ),
    Operation(
        "lookup_address_by_esi_id",
        "lookupAddressByEsiId",
        "LookupAddressByEsiId",
        {"esi_id": ESI_ID},
        {"esiId": ESI_ID},
        {"addressLookup": [PREMISE]},
    ),
    Operation(
        "lookup_address_by_street_address",
        "lookupAddressByStreetAddress",
        "LookupAddressByStreetAddress",
        {"address": "4500 Belt Line Rd", "post_code": "75001"},
        {"address": "4500 Belt Line Rd", "postCode": "75001"},
        {"addressLookup": [PREMISE]},
    ),
    Operation(
        "get_rates_for_esi_id",
        "getRatesForEsiId",
        "GetRatesForEsiId",
        {"esi_id": ESI_ID, "kwh_usage": Decimal("1500")},
        {"esiId": ESI_ID, "kwhUsage": "1500"},
        CONCISE_RATES,
        public=True,
    ),
    Operation(
        "get_rates_for_service_provider",
        "getRatesForServiceProvider",
        "GetRatesForServiceProvider",
        {"service_provider": ServiceProvider.ONCOR},
        {"serviceProvider": "ONCOR"},
        CONCISE_RATES,
        public=True,
    ),
    Operation(
        "get_rates_for_load_zone",
        "getRatesForLoadZone",
        "GetRatesForLoadZone",
        {"load_zone": LoadZone.LZ_NORTH, "filter_products_by": ProductInput(id="1207")},
        {"loadZone": "LZ_NORTH", "filterProductsBy": {"id": "1207"}},
        CONCISE_RATES,
        public=True,
    ),
    Operation(
        "get_rates_for_usage",
        "getRatesForUsage",
        "GetRatesForUsage",
        {"kwh_usage": Decimal("1500")},
        {"kwhUsage": "1500"},
        CONCISE_RATES,
        public=True,
    ),
    Operation(
        "create_quote",
        "createQuote",
        "CreateQuote",
        {
            "input": CreateQuoteInput(
                postcode="75001",
                brand_code="OCTOPUS_ENERGY_USA",
                electricity_meter_points=[
                    ElectricityMeterPointConsumptionInput(
                        mpan=ESI_ID, is_estimate=False, annual_consumption_standard=14000
                    )
                ],
            )
        },
        {
            "input": {
                "postcode": "75001",
                "brandCode": "OCTOPUS_ENERGY_USA",
                "electricityMeterPoints": [
                    {"mpan": ESI_ID, "isEstimate": False, "annualConsumptionStandard": 14000}
                ],
            }
        },
        {"createQuote": {"quote": QUOTE}},
    ),
    Operation(
        "create_customer_quote",
        "createCustomerQuote",
        "CreateCustomerQuote",
        {"account_number": ACCOUNT_NUMBER},
        {"accountNumber": ACCOUNT_NUMBER},
        {"customerCreateQuote": {"quote": QUOTE}},
    ),
    Operation(
        "get_account_payments",
        "getAccountPayments",
        "GetAccountPayments",
        {
            "account_number": ACCOUNT_NUMBER,
            "status": AccountPaymentStatusOptions.CLEARED,
            "first": 10,
        },
        {"accountNumber": ACCOUNT_NUMBER, "status": "CLEARED", "first": 10},
        PAYMENTS,
    ),
    Operation(
        "get_account_bills",
        "getAccountBills",
        "GetAccountBills",
        {"account_number": ACCOUNT_NUMBER, "from_date": date(2025, 1, 1), "first": 12},
        {"accountNumber": ACCOUNT_NUMBER, "fromDate": "2025-01-01", "first": 12},
        BILLS,
    ),
    Operation(
        "get_product_rates_for_esi_id",
        "getProductRatesForEsiId",
        "GetProductRatesForEsiId",
        {"esi_id": ESI_ID},
        {"esiId": ESI_ID},
        PRODUCT_RATES,
        public=True,
    ),
    Operation(
        "get_efl_rates_for_esi_id",
        "getEflRatesForEsiId",
        "GetEflRatesForEsiId",
        {"esi_id": ESI_ID},
        {"esiId": ESI_ID},
        EFL_RATES,
        public=True,
    ),
    Operation(
        "get_account_agreements",
        "getAccountAgreements",
        "GetAccountAgreements",
        {"account_number": ACCOUNT_NUMBER},
        {"accountNumber": ACCOUNT_NUMBER},
        AGREEMENTS,
    ),
    Operation(
        "update_metadata",
        "updateMetadata",
        "UpdateMetadata",
        {
            "linked_object_type": LinkedObjectType.ACCOUNT,
            "identifier": ACCOUNT_NUMBER,
            "key": "affiliate",
            "value": {"ref": 12, "campaign": "fall"},
        },
        # A JSONString travels as a string holding the JSON.
        {
            "linkedObjectType": "ACCOUNT",
            "identifier": ACCOUNT_NUMBER,
            "key": "affiliate",
            "value": '{"ref":12,"campaign":"fall"}',
        },
        {"updateMetadata": {"metadata": {"key": "affiliate", "value": '{"ref": 12}'}}},
    ),
    Operation(
        "create_smart_device_token",
        "createSmartDeviceToken",
        "CreateSmartDeviceToken",
        {
            "account_number": ACCOUNT_NUMBER,
            "device_type": KrakenFlexDeviceTypes.THERMOSTATS,
            "device_vendor": ProviderChoices.ECOBEE,
        },
        {"accountNumber": ACCOUNT_NUMBER, "deviceType": "THERMOSTATS", "deviceVendor": "ECOBEE"},
        {"createSmartDeviceToken": {"state": OAUTH_STATE}},
    ),
    Operation(
        "acquire_oauth_tokens",
        "acquireOauthTokens",
        "AcquireOauthTokens",
        {"account_number": ACCOUNT_NUMBER, "auth_code": "vendor-code-123", "state": OAUTH_STATE},
        {"accountNumber": ACCOUNT_NUMBER, "authCode": "vendor-code-123", "state": OAUTH_STATE},
        {"acquireOauthTokens": {"tokensAcquired": True}},
    ),
    Operation(
        "get_fan_club_discount",
        "getFanClubDiscount",
        "GetFanClubDiscount",
        {},
        {},
        {"getFanClubDiscount": {"discountAmount": "0.2"}},
        public=True,
    ),
    Operation(
        "get_rate_limit_info",
        "getRateLimitInfo",
        "GetRateLimitInfo",
        {},
        {},
        {
            "rateLimitInfo": {
                "pointsAllowanceRateLimit": {
                    "limit": 50000,
                    "remainingPoints": 49984,
                    "usedPoints": 16,
                    "ttl": 1796189719,
                    "isBlocked": False,
                }
            }
        },
    ),
]
OPERATIONS_BY_METHOD = {operation.method: operation for operation in OPERATIONS}


def test_the_table_covers_every_generated_operation() -> None:
    """A new query in queries/ must get a row in OPERATIONS (and so every test below)."""
    from oeus_kraken_generated.async_client import KrakenClient as GeneratedAsyncClient
    from oeus_kraken_generated.sync_client import SyncKrakenClient as GeneratedSyncClient

    for generated in (GeneratedAsyncClient, GeneratedSyncClient):
        methods = {
            name
            for name, member in vars(generated).items()
            if callable(member) and not name.startswith("_") and name != "parse_result"
        }
        assert methods == set(OPERATIONS_BY_METHOD), generated.__name__


# -- what is sent ------------------------------------------------------------------------------


@functools.cache
def _schema() -> graphql.GraphQLSchema:
    return graphql.build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))


@functools.cache
def _source_definitions() -> dict[str, graphql.ExecutableDefinitionNode]:
    """Every operation and fragment written in queries/, by name."""
    definitions: dict[str, graphql.ExecutableDefinitionNode] = {}
    for path in sorted((ROOT / "queries").glob("*.graphql")):
        for definition in graphql.parse(path.read_text(encoding="utf-8")).definitions:
            assert isinstance(definition, graphql.ExecutableDefinitionNode)
            assert definition.name is not None, f"{path.name}: anonymous operation"
            definitions[definition.name.value] = definition
    return definitions


def _fragments_spread_in(node: graphql.Node) -> set[str]:
    names: set[str] = set()

    class Collect(graphql.Visitor):
        def enter_fragment_spread(self, spread: graphql.FragmentSpreadNode, *_: Any) -> None:
            names.add(spread.name.value)

    graphql.visit(node, Collect())
    return names


def _with_typename_on_abstract_types(document: graphql.DocumentNode) -> graphql.DocumentNode:
    """`document` with `__typename` first in every field's selection on an interface or union
    that lacks it: ariadne-codegen adds it there so the result models can tell the concrete types
    apart (not inside an inline fragment on an interface, whose field already has it)."""
    type_info = graphql.TypeInfo(_schema())
    typename = graphql.FieldNode(
        alias=None,
        name=graphql.NameNode(value="__typename"),
        arguments=(),
        directives=(),
        selection_set=None,
    )

    class AddTypename(graphql.Visitor):
        def leave_selection_set(
            self, node: graphql.SelectionSetNode, _key: Any, owner: Any, *_: Any
        ) -> Any:
            if isinstance(owner, graphql.InlineFragmentNode):
                return None
            parent = type_info.get_parent_type()
            has_typename = any(
                isinstance(s, graphql.FieldNode) and s.name.value == "__typename"
                for s in node.selections
            )
            if graphql.is_abstract_type(parent) and not has_typename:
                return graphql.SelectionSetNode(selections=(typename, *node.selections))
            return None

    return graphql.visit(document, graphql.TypeInfoVisitor(type_info, AddTypename()))


def _normalised(document: graphql.DocumentNode) -> str:
    """The document printed canonically: the operation, then its fragments by name."""
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    fragments = [d for d in document.definitions if isinstance(d, graphql.FragmentDefinitionNode)]
    assert len(operations) == 1, "a request must carry exactly one operation"
    fragments.sort(key=lambda fragment: fragment.name.value)
    return graphql.print_ast(graphql.DocumentNode(definitions=(*operations, *fragments)))


def expected_document(operation_name: str) -> str:
    """The operation as written in queries/, with every fragment it spreads (transitively)."""
    definitions = _source_definitions()
    wanted = [definitions[operation_name]]
    seen: set[str] = set()
    pending = _fragments_spread_in(wanted[0])
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        wanted.append(definitions[name])
        pending |= _fragments_spread_in(definitions[name])
    document = graphql.DocumentNode(definitions=tuple(wanted))
    return _normalised(_with_typename_on_abstract_types(document))


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.method)
async def test_operation_sends_its_name_document_and_variables(
    operation: Operation, make_client: Any, fake_kraken: FakeKraken
) -> None:
    token = None if operation.public else fake_kraken.answer_token()
    fake_kraken.answer(operation.operation_name, {"data": operation.data})
    client = make_client(credentials=OrganizationSecretKey(SECRET_KEY))

    await call(client, operation.method, **operation.kwargs)

    [sent] = fake_kraken.requests(operation.operation_name)
    assert sent.url == TEST_URL
    assert sent.operation_name == operation.operation_name
    assert _normalised(graphql.parse(sent.query)) == expected_document(operation.operation_name)
    assert sent.variables == operation.variables
    assert sent.headers.get("Authorization") == token


@pytest.mark.parametrize(
    ("credentials", "token_operation", "token_input"),
    [
        pytest.param(
            OrganizationSecretKey(SECRET_KEY),
            "getKrakenToken",
            {"organizationSecretKey": SECRET_KEY},
            id="organization-secret-key",
        ),
        pytest.param(
            APIKey("fake-api-key"), "getKrakenToken", {"APIKey": "fake-api-key"}, id="api-key"
        ),
        pytest.param(
            EmailPassword("maria.garcia@example.com", "not-a-real-password"),
            "getKrakenToken",
            {"email": "maria.garcia@example.com", "password": "not-a-real-password"},
            id="email-password",
        ),
        pytest.param(
            RefreshToken("fake-refresh-token"),
            "refreshKrakenToken",
            {"refreshToken": "fake-refresh-token"},
            id="refresh-token",
        ),
    ],
)
async def test_token_request_sends_only_the_credential_fields_as_the_api_spells_them(
    credentials: Credentials,
    token_operation: str,
    token_input: dict[str, str],
    make_client: Any,
    fake_kraken: FakeKraken,
) -> None:
    body = token_response()
    fake_kraken.answer(token_operation, body)
    fake_kraken.answer("getViewer", {"data": VIEWER})
    client = make_client(credentials=credentials)

    await call(client, "get_viewer")

    token_request, viewer_request = fake_kraken.requests()
    assert token_request.operation_name == token_operation
    assert token_request.variables == {"input": token_input}
    assert "Authorization" not in token_request.headers
    assert viewer_request.headers["Authorization"] == body["data"]["obtainKrakenToken"]["token"]


async def test_get_products_without_filters_sends_no_variables(
    make_client: Any, fake_kraken: FakeKraken
) -> None:
    """Unset optional variables are left out, so the API applies its own defaults."""
    fake_kraken.answer("getProducts", {"data": PRODUCTS})

    await call(make_client(), "get_products")

    [sent] = fake_kraken.requests("getProducts")
    assert sent.variables == {}


async def test_get_account_ledgers_sends_only_the_account_number_when_not_paging(
    make_client: Any, fake_kraken: FakeKraken
) -> None:
    fake_kraken.answer_token()
    fake_kraken.answer("getAccountLedgers", {"data": LEDGERS})
    client = make_client(credentials=OrganizationSecretKey(SECRET_KEY))

    await call(client, "get_account_ledgers", account_number=ACCOUNT_NUMBER)

    [sent] = fake_kraken.requests("getAccountLedgers")
    assert sent.variables == {"accountNumber": ACCOUNT_NUMBER}


async def test_rates_filter_sends_the_esi_id_and_only_the_fields_given(
    make_client: Any, fake_kraken: FakeKraken
) -> None:
    fake_kraken.answer("getProductsWithRates", {"data": PRODUCTS_WITH_RATES})

    morning = datetime(2025, 1, 15, 9, 30, tzinfo=CENTRAL_STANDARD)

    await call(
        make_client(),
        "get_products_with_rates",
        filter_products_by=ProductInput(available_at=morning),
        filter_rates_by=ConciseRatesInput(esi_id=ESI_ID),
    )

    [sent] = fake_kraken.requests("getProductsWithRates")
    assert sent.variables == {
        "filterProductsBy": {"availableAt": "2025-01-15T09:30:00-06:00"},
        "filterRatesBy": {"esiId": ESI_ID},
    }


# -- what comes back ---------------------------------------------------------------------------


async def _answer(
    operation: Operation, kind: str, fake_kraken: FakeKraken, data: dict[str, Any]
) -> Any:
    """Call `operation` on a new client of `kind`, the API answering with `data`."""
    if not operation.public:
        fake_kraken.answer_token()
    fake_kraken.answer(operation.operation_name, {"data": data})
    client = build_client(kind, credentials=OrganizationSecretKey(SECRET_KEY))
    try:
        return await call(client, operation.method, **operation.kwargs)
    finally:
        await close_client(client)


async def test_token_answer_parses_the_token_payload_and_refresh_expiry(
    kind: str, fake_kraken: FakeKraken
) -> None:
    body = token_response(now=1_750_000_000, refresh_expires_in=7 * 24 * 3600)
    answer = body["data"]["obtainKrakenToken"]

    result = await _answer(
        OPERATIONS_BY_METHOD["get_kraken_token"], kind, fake_kraken, body["data"]
    )

    token = result.obtain_kraken_token
    assert token.token == answer["token"]
    assert token.payload["exp"] == 1_750_003_600
    assert token.payload["sub"] == "kraken|account-user:1"
    assert token.refresh_token == "fake-refresh-token"
    assert token.refresh_expires_in == 1_750_604_800


async def test_viewer_accounts_have_enum_status_and_integer_cent_balances(
    kind: str, fake_kraken: FakeKraken
) -> None:
    result = await _answer(OPERATIONS_BY_METHOD["get_viewer"], kind, fake_kraken, VIEWER)

    viewer = result.viewer
    assert (viewer.given_name, viewer.family_name) == ("Maria", "Garcia")
    active, withdrawn = viewer.accounts
    assert active.typename__ == "AccountType"
    assert active.number == ACCOUNT_NUMBER
    assert active.status is AccountStatus.ACTIVE
    assert withdrawn.status is AccountStatus.WITHDRAWN
    assert type(active.balance) is int
    assert (active.balance, withdrawn.balance) == (12345, -2050)


async def test_account_has_its_texas_property_and_esi_id(
    kind: str, fake_kraken: FakeKraken
) -> None:
    result = await _answer(OPERATIONS_BY_METHOD["get_account"], kind, fake_kraken, ACCOUNT)

    account = result.account
    assert account.status is AccountStatus.ACTIVE
    assert type(account.balance) is int
    [home] = account.properties
    assert home.postcode == "75001"
    assert home.rich_address.locality == "Addison"
    assert home.rich_address.administrative_area == "TX"
    [meter_point] = home.electricity_meter_points
    # An ESI ID is an identifier, not a number: all 17 digits, as a string.
    assert meter_point.mpan == ESI_ID
    # When its supply began: a usage sync asks for nothing before it.
    [agreement] = meter_point.agreements
    assert agreement.valid_from == datetime(2024, 3, 1, 6, tzinfo=timezone.utc)


async def test_ledger_transactions_parse_dates_amounts_types_and_page_info(
    kind: str, fake_kraken: FakeKraken
) -> None:
    result = await _answer(OPERATIONS_BY_METHOD["get_account_ledgers"], kind, fake_kraken, LEDGERS)

    [ledger] = result.account.ledgers
    assert ledger.ledger_type == "MAIN_LEDGER"
    assert ledger.balance == 12345
    transactions = ledger.transactions
    assert transactions.total_count == 27
    assert transactions.page_info.has_next_page is True
    assert transactions.page_info.end_cursor == "YXJyYXljb25uZWN0aW9uOjE="
    charge, payment = (edge.node for edge in transactions.edges)
    assert (charge.typename__, payment.typename__) == ("Charge", "Payment")
    assert type(charge.posted_date) is date
    assert charge.posted_date == date(2025, 5, 31)
    assert charge.created_at == datetime(2025, 6, 1, 5, 12, 44, 123456, tzinfo=timezone.utc)
    assert charge.created_at.utcoffset() == timedelta(0)
    assert (charge.amounts.net, charge.amounts.tax, charge.amounts.gross) == (9876, 0, 9876)
    assert payment.amounts.gross == -9876


async def test_products_parse_decimal_credit_and_aware_datetimes(
    kind: str, fake_kraken: FakeKraken
) -> None:
    result = await _answer(OPERATIONS_BY_METHOD["get_products"], kind, fake_kraken, PRODUCTS)

    [product] = result.products
    assert product.code == "OCTOPUS-12M-FIXED-0125"
    assert product.term == 12
    assert product.generation_credit == Decimal("0.03500")
    assert str(product.generation_credit) == "0.03500"  # every digit kept: no float on the way
    assert product.available_from == datetime(2025, 1, 1, tzinfo=CENTRAL_STANDARD)
    assert product.available_from.utcoffset() == timedelta(hours=-6)
    assert product.available_to is None


async def test_product_rates_parse_to_exact_decimals_and_texas_enums(
    kind: str, fake_kraken: FakeKraken
) -> None:
    result = await _answer(
        OPERATIONS_BY_METHOD["get_products_with_rates"],
        kind,
        fake_kraken,
        PRODUCTS_WITH_RATES,
    )

    [product] = result.products_with_concise_applicable_rates
    [rate] = product.rates
    assert rate.service_provider is ServiceProvider.ONCOR
    assert rate.load_zone is LoadZone.LZ_NORTH
    assert isinstance(rate.total_applicable_rate, Decimal)
    assert str(rate.total_applicable_rate) == "20.00380"
    assert str(rate.total_applicable_rate_with_monthly_subscription_fees) == "20.99380"
    assert rate.kwh_usage == Decimal(1000)
    assert rate.service_provider_consumption_rate + rate.load_zone_consumption_rate == Decimal(
        "19.05140"
    )


async def test_tdsp_lookup_parses_service_provider_and_load_zone(
    kind: str, fake_kraken: FakeKraken
) -> None:
    result = await _answer(
        OPERATIONS_BY_METHOD["get_tdsp_by_postal_code"], kind, fake_kraken, TDSP_HOUSTON
    )

    [tdsp] = result.tdsp_by_postalcode
    assert tdsp.service_provider is ServiceProvider.CENTERPOINT
    assert tdsp.load_zone is LoadZone.LZ_HOUSTON


# -- one set of models -------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.method)
async def test_both_clients_return_the_same_exported_model_class(
    operation: Operation, fake_kraken: FakeKraken
) -> None:
    """A result from the sync client is an instance of the very class the async client returns,
    and of the class `oeus_kraken` exports under the model's name."""
    from_async = await _answer(operation, "async", fake_kraken, operation.data)
    from_sync = await _answer(operation, "sync", fake_kraken, operation.data)

    exported = getattr(oeus_kraken, operation.model)
    assert type(from_async) is exported
    assert type(from_sync) is exported
