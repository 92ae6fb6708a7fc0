"""The EFL check when the API gives no figure that can be checked (no EFL rows at the ESI ID,
or every figure skipped): the table and the page say that nothing was checked, never that
"all 0 figures are within 0.01 cents" nor a green "✓ holds" for a product never compared.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from auth_helpers import FakeKraken
from cli_helpers import Cli, cli
from test_compare_answers import CREDENTIALS, DAY, ESI, offered, rate, script, store

from oeus_kraken.usage import UsageStore

__all__ = ["cli", "store"]  # fixtures, used by name


def test_a_comparison_with_no_efl_figure_checked_says_so_in_the_table_and_the_page(
    cli: Cli,
    fake_kraken: FakeKraken,
    store: UsageStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", CREDENTIALS.key)
    page = tmp_path / "compare.html"
    for options in ((), ("--html", str(page))):
        script(fake_kraken, [offered("1", "Plain", [rate("10", timeOfUse="ALL_DAY")])], efl=[])
        period = ("--from", str(DAY), "--to", str(DAY))
        run = cli("compare", ESI, *period, "--db", str(store.path), *options)
        assert run.code == 0, run.err
        # Before: "EFL check: all 0 figures of 1 products are within 0.01 cents/kWh ...".
        assert "all 0 figures" not in run.out
        assert "EFL check: no figure could be checked (3 skipped, see --json)" in run.out

    text = page.read_text(encoding="utf-8")
    # Before: "Every figure checked is within 0.01¢/kWh." and the product "✓ holds".
    assert "Every figure checked is within" not in text
    assert "✓ holds" not in text
    assert "No figure could be checked" in text
    assert "— nothing checked" in text
