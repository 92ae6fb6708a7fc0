"""The `oeus-kraken` command line (also `python -m oeus_kraken`): the local sandbox, a token
check, and quick looks at your data: accounts, usage, premises, rates, quotes.

Credentials come from flags or, better (flags show in `ps` and shell history), from the
KRAKEN_* environment variables that `SyncKrakenClient.from_env()` reads. Output is a readable
table, or CSV and JSON for programs (`--csv`, `--json`). Failures print one line to stderr and
exit with a code that says what kind of failure it was (EXIT_CODES).

One module per group of commands: _accounts (token, viewer, account), _market (products,
rates, quote, fan-club), _premises (esi, address), _usage (usage ACCOUNT, from the API),
_usage_store (usage sync|export|status|chart, the local store), _compare (compare: the stored
usage priced on every product), _sandbox, _schema (schema diff); _common and _output hold what
they share, _main the parser and the handling around every run.
"""

from __future__ import annotations

from ._common import EXIT_CODES
from ._main import main

__all__ = ["EXIT_CODES", "main"]
