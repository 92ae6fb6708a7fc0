"""The usage exports: what an export may replace.

A Parquet `--out` is replaced whole when it holds an earlier export; anything else there is the
user's and is refused (README, "Export guarantees": "Never mixed"). These tests hold a folder of
the user's own that merely looks like a dataset (Hive `date=` partitions, as Spark, DuckDB,
pyarrow and Polars write them) to that promise.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cli_helpers import Cli, assert_one_error_line, clean_env, cli
from usage_helpers import ESI, FETCHED, day_intervals

from oeus_kraken import ConfigurationError
from oeus_kraken.usage import UsageStore

__all__ = ["clean_env", "cli"]  # fixtures, used by name

DAY = date(2026, 7, 14)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "usage.sqlite3"
    with UsageStore(path) as store:
        store.link("A-1234ABCD", ESI)
        store.upsert(day_intervals(DAY, esi_id=ESI), fetched_at=FETCHED)
    return path


def users_dataset(folder: Path, name: str) -> bytes:
    """A Hive-partitioned dataset of the user's own, as other tools write one."""
    import pyarrow
    import pyarrow.parquet

    (folder / "date=2024-01-01").mkdir(parents=True)
    path = folder / "date=2024-01-01" / name
    pyarrow.parquet.write_table(pyarrow.table({"sales": [1, 2, 3]}), path)
    return path.read_bytes()


@pytest.mark.parametrize(
    "name",
    [
        "part-00000.parquet",  # Spark, pyarrow's write_to_dataset
        "data_0.parquet",  # DuckDB's COPY ... PARTITION_BY
        "00000000.parquet",  # Polars, digits only
        f"{ESI}.parquet",  # even named as an export names its files, but not one of ours
    ],
)
def test_a_users_own_date_partitioned_dataset_is_refused_and_kept(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "lake"
    before = users_dataset(out, name)
    with UsageStore(store_path) as store, pytest.raises(ConfigurationError, match="not an earlier"):
        store.export(ESI, DAY, DAY, format="parquet", out=out)
    run = cli("usage", "export", ESI, "--from", "2026-07-14", "--to", "2026-07-14", "--parquet",
              "--db", str(store_path), "--out", str(out))  # fmt: skip
    assert run.code == 2
    assert "not an earlier usage export" in assert_one_error_line(run, "usage export", "usage")
    assert (out / "date=2024-01-01" / name).read_bytes() == before
    assert sorted(p.name for p in out.rglob("*")) == sorted(["date=2024-01-01", name])


def test_an_earlier_export_is_still_replaced_whole(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    with UsageStore(store_path) as store:
        assert store.export(ESI, DAY, DAY, format="parquet", out=out) == 96
        assert store.export(ESI, DAY, DAY, format="parquet", interval="hour", out=out) == 24
    assert sorted(p.name for p in out.rglob("*")) == [f"{ESI}.parquet", "date=2026-07-14"]


def test_an_earlier_export_in_the_layout_before_this_one_is_still_replaced(
    store_path: Path, tmp_path: Path
) -> None:
    """Before 9258356: OUT/esi_id=<id>/date=<day>/part-0.parquet, the ESI ID in the path."""
    import pyarrow
    import pyarrow.parquet

    out = tmp_path / "dataset"
    day = out / f"esi_id={ESI}" / "date=2026-07-14"
    day.mkdir(parents=True)
    columns = ("start_local", "end_local", "start_utc", "end_utc", "kwh", "cost_cents")
    old = pyarrow.table({c: pyarrow.array([], pyarrow.string()) for c in columns})
    pyarrow.parquet.write_table(old, day / "part-0.parquet")
    with UsageStore(store_path) as store:
        assert store.export(ESI, DAY, DAY, format="parquet", out=out) == 96
    assert sorted(p.name for p in out.rglob("*")) == [f"{ESI}.parquet", "date=2026-07-14"]
