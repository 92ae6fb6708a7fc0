"""This package's blocking base client: oeus_kraken.base.KrakenBaseClient, marking
which UNSET the package's methods use (arguments not given are left out of the request)."""

from oeus_kraken.base import KrakenBaseClient as _KrakenBaseClient
from oeus_kraken.unset import UNSET


class KrakenBaseClient(_KrakenBaseClient):
    kraken_unset = UNSET
