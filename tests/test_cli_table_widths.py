"""Tables on a terminal stay in line whatever script the API's names are in: a wide character
(Japanese, Chinese, Korean, fullwidth forms) takes two columns, a combining accent none.
Shown on the plan comparison's ranking, whose product names are the API's.
"""

from __future__ import annotations

import unicodedata

import pytest
from auth_helpers import FakeKraken
from cli_helpers import Cli, cli
from test_compare_answers import CREDENTIALS, DAY, ESI, offered, rate, script, store

from oeus_kraken.usage import UsageStore

__all__ = ["cli", "store"]  # fixtures, used by name

NAMES = ["Plain", "電気プラン", "\uff26\uff55\uff4c\uff4c", "Cafe\u0301 combined"]


def _columns(text: str) -> int:
    """Terminal columns of `text`, worked out here as a terminal does."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def test_every_row_of_the_ranking_starts_its_total_in_the_same_column(
    cli: Cli, fake_kraken: FakeKraken, store: UsageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", CREDENTIALS.key)
    products = [
        offered(str(i), n, [rate(str(10 + i), timeOfUse="ALL_DAY")]) for i, n in enumerate(NAMES, 1)
    ]
    script(fake_kraken, products)
    run = cli("compare", ESI, "--from", str(DAY), "--to", str(DAY), "--db", str(store.path))
    assert run.code == 0, run.err

    lines = run.out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("rank  product"))
    rows = lines[header + 2 : header + 2 + len(NAMES)]
    assert [name for name in NAMES if not any(name in row for row in rows)] == []
    # Before, "電気プラン" padded by its 5 characters pushed its row's total 5 columns right.
    starts = {_columns(row[: row.index("$")]) for row in rows}
    assert starts == {_columns(lines[header][: lines[header].index("total")])}
