"""This package's async base client: oeus_kraken.base.AsyncKrakenBaseClient, with the package's
own UNSET marker (arguments not given are left out of the request)."""

from oeus_kraken.base import AsyncKrakenBaseClient as _AsyncKrakenBaseClient

from .base_model import UNSET


class AsyncKrakenBaseClient(_AsyncKrakenBaseClient):
    kraken_unset = UNSET
