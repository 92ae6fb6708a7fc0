"""This package's blocking base client: oeus_kraken.base.KrakenBaseClient, with the package's
own UNSET marker (arguments not given are left out of the request)."""

from oeus_kraken.base import KrakenBaseClient as _KrakenBaseClient

from .base_model import UNSET


class KrakenBaseClient(_KrakenBaseClient):
    kraken_unset = UNSET
