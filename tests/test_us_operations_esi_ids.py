"""ESI ID lookups with an ESI ID that cannot be one (spaces, too few or too many digits, letters).

Found by probe21-ops: such a value is sent as it is, and the answer is "no premise" / "no rate",
indistinguishable from an unknown but well-formed ESI ID. The argument check belongs in the
core (base.py, where a naive datetime is already refused before sending), which this branch
does not own: the tests are xfail(strict) until it is fixed there.
"""

from __future__ import annotations

import pytest

from oeus_kraken import ConfigurationError, OrganizationSecretKey, SyncKrakenClient
from oeus_kraken.sandbox import DEMO_ORGANIZATION_SECRET_KEY, SandboxServer

KNOWN_ESI_ID = "10443720004512388"  # a seeded Oncor premise (17 digits)


def test_a_well_formed_esi_id_finds_its_premise(sandbox: SandboxServer) -> None:
    with SyncKrakenClient(
        sandbox.url, credentials=OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)
    ) as kraken:
        found = kraken.lookup_address_by_esi_id(KNOWN_ESI_ID).address_lookup
    assert [premise.esi_id for premise in found or [] if premise] == [KNOWN_ESI_ID]


@pytest.mark.xfail(
    strict=True,
    reason="core (base.py): an ESI ID that is not 17-22 ASCII digits is sent as is and answered "
    "'no premise', like an unknown one; it should be a ConfigurationError before sending",
)
@pytest.mark.parametrize(
    "esi_id",
    ["1044 3720 0045 12388", "1044372000451238", "10443720004512388000000", "abc", ""],
)
def test_a_malformed_esi_id_is_a_configuration_error_not_no_premise(
    sandbox: SandboxServer, esi_id: str
) -> None:
    with (
        SyncKrakenClient(
            sandbox.url, credentials=OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)
        ) as kraken,
        pytest.raises(ConfigurationError),
    ):
        kraken.lookup_address_by_esi_id(esi_id)
