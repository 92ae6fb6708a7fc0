"""This package's async base client: oeus_kraken.base.AsyncKrakenBaseClient, marking
which UNSET the package's methods use (arguments not given are left out of the request)."""

from oeus_kraken.base import AsyncKrakenBaseClient as _AsyncKrakenBaseClient
from oeus_kraken.unset import UNSET


class AsyncKrakenBaseClient(_AsyncKrakenBaseClient):
    kraken_unset = UNSET
