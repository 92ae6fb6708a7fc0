"""The usage store's library surface as an integrator uses it: arguments of the wrong type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oeus_kraken import ConfigurationError
from oeus_kraken.usage import UsageStore


@pytest.mark.parametrize(
    ("path", "busy_timeout", "message"),
    [
        (5, 30.0, "file path"),  # a bare TypeError from Path(), before
        (b"usage.sqlite3", 30.0, "file path"),
        ("usage.sqlite3", "30", "busy_timeout"),  # a bare TypeError from sqlite3, before
        ("usage.sqlite3", -1, "busy_timeout"),  # accepted, before
        ("usage.sqlite3", True, "busy_timeout"),
        ("usage.sqlite3", float("nan"), "busy_timeout"),
    ],
)
def test_a_store_path_or_busy_timeout_of_the_wrong_kind_is_a_configuration_error_making_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: Any, busy_timeout: Any, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=message):
        UsageStore(path, busy_timeout=busy_timeout)
    assert list(tmp_path.iterdir()) == []
