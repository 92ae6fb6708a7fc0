"""ESI ID lookups through the library.

The library sends an ESI ID as it is given, and the API judges it: one that cannot be an ESI ID
is answered as an unknown one is (no premise). The command line checks ESI IDs before it asks
(17 to 22 digits). probe21-ops proposed the same check in the clients; left out (see stop 31's
note): a client-side rule on a variable's name would refuse what the API may accept.
"""

from __future__ import annotations

from oeus_kraken import OrganizationSecretKey, SyncKrakenClient
from oeus_kraken.sandbox import DEMO_ORGANIZATION_SECRET_KEY, SandboxServer

KNOWN_ESI_ID = "10443720004512388"  # a seeded Oncor premise (17 digits)


def test_a_well_formed_esi_id_finds_its_premise(sandbox: SandboxServer) -> None:
    with SyncKrakenClient(
        sandbox.url, credentials=OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)
    ) as kraken:
        found = kraken.lookup_address_by_esi_id(KNOWN_ESI_ID).address_lookup
    assert [premise.esi_id for premise in found or [] if premise] == [KNOWN_ESI_ID]
