"""Issue 20, the usage store's files at their edges (items 6, 7, the formats of 8, and 9): exports
are atomic, whole, exact, typed and owner-only; read-only stores can be read; the CLI's exit
statuses, formats, URLs and paths are honest; one lock library.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli, Run, assert_one_error_line, clean_env, cli, sandbox_env
from usage_helpers import ESI, FETCHED, day_intervals, file_size_limit

from oeus_kraken import ConfigurationError
from oeus_kraken.cli import EXIT_CODES
from oeus_kraken.sandbox import DEMO_API_KEY, SandboxServer
from oeus_kraken.usage import AGGREGATE_COLUMNS, UsageStore, UsageStoreError, _store, chart

__all__ = ["clean_env", "cli", "sandbox_env"]  # fixtures, used by name

ACCOUNT = "A-1234ABCD"
DAY = date(2026, 7, 14)
LONG_ESI = "1044372000451238812345"  # 22 digits: CenterPoint's long form
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Two days of ESI and of a 22-digit ESI ID, both on ACCOUNT."""
    path = tmp_path / "usage.sqlite3"
    with UsageStore(path) as store:
        for esi_id in (ESI, LONG_ESI):
            store.link(ACCOUNT, esi_id)
            for day in (DAY, DAY + timedelta(days=1)):
                store.upsert(day_intervals(day, esi_id=esi_id), fetched_at=FETCHED)
    return path


@pytest.fixture
def store(store_path: Path) -> Iterator[UsageStore]:
    with UsageStore(store_path) as opened:
        yield opened


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name or ".old" in p.name)


# -- 6. Exports are atomic and whole ---------------------------------------------------------------


@pytest.mark.slow
def test_item6_a_failed_parquet_export_leaves_nothing(
    store: UsageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet

    written: list[object] = []
    original = pyarrow.parquet.write_table

    def fails_on_the_third(table: Any, where: Any, **options: Any) -> None:
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(where)
        original(table, where, **options)

    monkeypatch.setattr(pyarrow.parquet, "write_table", fails_on_the_third)
    out = tmp_path / "dataset"
    with pytest.raises(UsageStoreError, match="No space left"):
        store.export(ACCOUNT, DAY, DAY + timedelta(days=1), format="parquet", out=out)
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_item6_a_failed_export_over_an_earlier_one_leaves_the_earlier_one(
    store: UsageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet

    out = tmp_path / "dataset"
    store.export(ESI, DAY, DAY, format="parquet", out=out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    def broken(*_: Any, **__: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(pyarrow.parquet, "write_table", broken)
    with pytest.raises(UsageStoreError):
        store.export(ACCOUNT, DAY, DAY + timedelta(days=1), format="parquet", out=out)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert leftovers(tmp_path) == []


def test_item6_an_export_of_another_interval_or_account_replaces_the_folder_whole(
    store: UsageStore, tmp_path: Path
) -> None:
    import pyarrow.parquet

    out = tmp_path / "dataset"
    assert store.export(ACCOUNT, DAY, DAY + timedelta(days=1), format="parquet", out=out) == 384
    hours = store.export(ESI, DAY, DAY, format="parquet", interval="hour", out=out)
    assert hours == 24
    table = pyarrow.parquet.read_table(out)
    assert table.num_rows == 24  # nothing of the 15-minute export, of either ESI ID, is left
    assert set(AGGREGATE_COLUMNS) <= set(table.column_names)
    assert set(table.column("esi_id").to_pylist()) == {ESI}
    assert leftovers(tmp_path) == []


def test_item6_a_folder_holding_other_files_is_refused_and_left_as_it_was(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine"
    (out / "date=2026-07-14").mkdir(parents=True)
    (out / "notes.txt").write_text("MINE")
    (out / "date=2026-07-14" / "keep.csv").write_text("MINE")
    with UsageStore(store_path) as store, pytest.raises(ConfigurationError, match=r"keep\.csv"):
        store.export(ESI, DAY, DAY, format="parquet", out=out)
    run = cli("usage", "export", ESI, "--from", "2026-07-14", "--to", "2026-07-14", "--parquet",
              "--db", str(store_path), "--out", str(out))  # fmt: skip
    assert "not an earlier usage export" in assert_one_error_line(run, "usage export", "usage")
    assert (out / "notes.txt").read_text() == "MINE"
    assert (out / "date=2026-07-14" / "keep.csv").read_text() == "MINE"
    assert sorted(p.name for p in out.rglob("*")) == ["date=2026-07-14", "keep.csv", "notes.txt"]


@pytest.mark.parametrize("out", [".", "..", "exports"])
def test_a_parquet_out_that_is_the_working_folder_or_holds_it_is_refused_saying_what_to_give(
    cli: Cli,
    clean_env: None,
    store_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    out: str,
) -> None:
    # Before: "." was "cannot use .: Device or resource busy" (exit 1, nothing of what to give);
    # a folder holding the working one, an earlier export, would be swapped from under it.
    here = tmp_path / "exports" / "date=2026-07-14"
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    out = str(tmp_path / out) if out == "exports" else out  # the working folder's, by its path
    run = cli("usage", "export", ESI, "--from", "2026-07-14", "--to", "2026-07-14", "--parquet",
              "--db", str(store_path), "--out", out)  # fmt: skip
    assert "give a new folder's name" in assert_one_error_line(run, "usage export", "usage")
    assert here.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", *sorted(
        p.name for p in tmp_path.iterdir() if p.name.startswith("usage.sqlite3"))]  # fmt: skip


def test_a_parquet_out_that_is_a_symlink_to_a_folder_is_refused_as_a_symlink_not_a_file(
    store: UsageStore, tmp_path: Path
) -> None:
    # Refused (the swap would replace the link, not the folder it names), but it said "DIR is a
    # file", which a user looking at a folder cannot make sense of.
    (tmp_path / "real").mkdir()
    link = tmp_path / "dataset"
    link.symlink_to(tmp_path / "real")
    with pytest.raises(ConfigurationError) as raised:
        store.export(ACCOUNT, DAY, DAY, format="parquet", out=link)
    message = str(raised.value)
    assert message.startswith(f"{link} is a symlink (to {tmp_path / 'real'})"), message
    assert "is a file" not in message
    assert link.is_symlink()
    assert list((tmp_path / "real").iterdir()) == []


@pytest.mark.parametrize("esi_id", ["../../escaped", "ELSEWHERE/escaped"])
def test_a_parquet_export_never_writes_outside_its_folder_whatever_the_esi_id(
    tmp_path: Path, esi_id: str
) -> None:
    # An ESI ID is a file name in the dataset: one holding a "/" named a path outside it.
    esi_id = esi_id.replace("ELSEWHERE", str(tmp_path / "elsewhere"))  # an absolute path
    (tmp_path / "elsewhere").mkdir()
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        store.link(ACCOUNT, esi_id)
        store.upsert(day_intervals(DAY, esi_id=esi_id), fetched_at=FETCHED)
        out = tmp_path / "a" / "b" / "dataset"
        out.parent.mkdir(parents=True)
        with pytest.raises(UsageStoreError, match="cannot name a file"):
            store.export(ACCOUNT, DAY, DAY, format="parquet", out=out)
    assert sorted(p.name for p in tmp_path.rglob("*.parquet")) == []
    assert leftovers(out.parent) == []


@pytest.mark.parametrize("command", ["usage export", "usage chart", "compare"])
def test_an_out_that_is_the_store_itself_is_refused_and_the_store_kept(
    cli: Cli,
    sandbox_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: str,
) -> None:
    # `--db usage.png --out usage.png`, a slip of the tab key: the export, chart or page was
    # renamed over the store, a year of usage and the requests it cost gone.
    from compare_helpers import ESI_ID, store_at

    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    db = store_at(tmp_path / "usage.png", sandbox, first=DAY, last=DAY)
    before = db.read_bytes()
    out = "--html" if command == "compare" else "--out"
    dates = ("--from", str(DAY), "--to", str(DAY))
    run = cli(*command.split(), ESI_ID, *dates, "--db", str(db), out, str(db))
    line = assert_one_error_line(run, command, "usage")
    assert "the usage store" in line, line
    assert db.read_bytes() == before
    assert sandbox.stats.requests == 0


def test_item6_an_empty_range_writes_a_dataset_readers_open_and_the_cli_says_no_rows(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path
) -> None:
    import duckdb
    import pandas
    import pyarrow.parquet

    out = tmp_path / "empty"
    first, last = "2026-07-20", "2026-07-21"
    run = cli("usage", "export", ESI, "--from", first, "--to", last, "--db", str(store_path),
              "--out", str(out), "--parquet")  # fmt: skip
    assert run.code == EXIT_CODES["no_rows"] == 8
    [line] = run.err_lines
    assert line.startswith("oeus-kraken usage export: no rows:")
    assert pyarrow.parquet.read_table(out).num_rows == 0
    assert len(pandas.read_parquet(out)) == 0
    query = f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true)"  # noqa: S608
    assert duckdb.sql(query).fetchall() == [(0,)]
    csv_run = cli("usage", "export", ESI, "--from", first, "--to", last, "--db", str(store_path))
    assert csv_run.code == 8
    assert csv_run.out.splitlines()[0].startswith("esi_id,")  # a CSV readers open: its header


def test_item6_values_keep_the_apis_precision(store: UsageStore, tmp_path: Path) -> None:
    import pyarrow.parquet

    precise = Decimal("0.1234567890123")  # 13 decimals: decimal(38, 9) refused it
    huge = Decimal("123456789012345678901234567890.5")  # 30 integer digits: it overflowed
    day = DAY + timedelta(days=5)
    intervals = day_intervals(day, value=precise)
    intervals[1] = day_intervals(day, value=huge)[1]
    store.upsert(intervals, fetched_at=FETCHED)
    out = tmp_path / "exact"
    store.export(ESI, day, day, format="parquet", out=out)
    values = pyarrow.parquet.read_table(out).column("kwh").to_pylist()
    assert values[0] == precise
    assert values[1] == huge
    store.export(ESI, day, day, format="parquet", interval="day", out=out)
    [total] = pyarrow.parquet.read_table(out).column("kwh").to_pylist()
    assert total == precise * 95 + huge


def test_exports_of_other_ranges_and_stores_are_queried_together_by_duckdb_and_pyarrow(
    store: UsageStore, tmp_path: Path
) -> None:
    """README: shard accounts across machines and query the exports together. Each export's
    decimal was as wide as its own values, and readers take the type from the first file:
    DuckDB failed casting a later file's DECIMAL(8,5) to the first's DECIMAL(2,1)."""
    import duckdb
    import pyarrow.dataset

    day = DAY + timedelta(days=5)
    small, wide = Decimal("0.5"), Decimal("123.45678")
    store.upsert(day_intervals(day, value=small), fetched_at=FETCHED)
    store.upsert(day_intervals(day + timedelta(days=1), value=wide), fetched_at=FETCHED)
    first, second = tmp_path / "first.parquet", tmp_path / "second.parquet"
    store.export(ESI, day, day, format="parquet", out=first)
    after = day + timedelta(days=1)
    store.export(ESI, after, after, format="parquet", out=second)

    query = (
        f"SELECT sum(kwh) FROM read_parquet(['{first}/**/*.parquet', '{second}/**/*.parquet'], "  # noqa: S608
        "hive_partitioning=true)"
    )
    assert duckdb.sql(query).fetchall() == [(small * 96 + wide * 96,)]
    both = pyarrow.dataset.dataset(
        [pyarrow.dataset.dataset(out, partitioning="hive") for out in (first, second)]
    )
    assert sum(both.to_table().column("kwh").to_pylist()) == small * 96 + wide * 96


def test_item6_esi_ids_read_back_as_text_in_duckdb_pyarrow_and_pandas(
    store: UsageStore, tmp_path: Path
) -> None:
    import duckdb
    import pandas
    import pyarrow
    import pyarrow.parquet

    out = tmp_path / "dataset"
    store.export(ACCOUNT, DAY, DAY + timedelta(days=1), format="parquet", out=out)

    table = pyarrow.parquet.read_table(out)
    assert table.schema.field("esi_id").type == pyarrow.string()
    assert set(table.column("esi_id").to_pylist()) == {ESI, LONG_ESI}

    frame = pandas.read_parquet(out)
    assert all(isinstance(value, str) for value in frame["esi_id"])
    assert set(frame["esi_id"]) == {ESI, LONG_ESI}

    relation = duckdb.sql(
        f"SELECT DISTINCT esi_id FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true)"  # noqa: S608
    )
    assert relation.types == ["VARCHAR"]
    assert {row[0] for row in relation.fetchall()} == {ESI, LONG_ESI}


def write_every_kind(store: UsageStore, folder: Path) -> None:
    from oeus_kraken.usage import chart

    for name, options in (("u.csv", {}), ("u.json", {}), ("u.parquet", {"interval": "day"})):
        store.export(ESI, DAY, DAY + timedelta(days=1), out=folder / name, **options)
    chart(store, ESI, DAY, DAY + timedelta(days=1), folder / "u.png")
    chart(store, ESI, DAY, DAY + timedelta(days=1), folder / "u.svg")


@pytest.mark.slow
def test_item6_every_file_holding_usage_is_owner_only(store: UsageStore, tmp_path: Path) -> None:
    previous = os.umask(0o022)  # most shells': files 0644 unless their writer says otherwise
    try:
        write_every_kind(store, tmp_path)
    finally:
        os.umask(previous)
    files = [tmp_path / n for n in ("u.csv", "u.json", "u.png", "u.svg")]
    files += [p for p in (tmp_path / "u.parquet").rglob("*.parquet")]
    assert len(files) == 6
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    folders = [tmp_path / "u.parquet", *(p for p in (tmp_path / "u.parquet").iterdir())]
    assert {mode(p) for p in folders} == {0o700}
    assert (tmp_path / "u.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "u.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["u.csv", "u.json"])
def test_item6_a_disk_that_fills_up_mid_export_is_a_usage_store_error_and_keeps_the_earlier_file(
    store: UsageStore, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    out.write_text("EARLIER")
    with file_size_limit(4096), pytest.raises(UsageStoreError, match=f"cannot write {out}"):
        store.export(ACCOUNT, DAY, DAY + timedelta(days=1), out=out)
    assert out.read_text() == "EARLIER"
    assert leftovers(tmp_path) == []


def test_a_disk_that_fills_up_mid_parquet_export_names_the_out_folder_and_what_failed(
    store: UsageStore, tmp_path: Path
) -> None:
    # It named the temporary folder (gone by then) and pyarrow's own text: "cannot write
    # DIR/.dataset.x8k2.partial/date=2026-07-14: [Errno 27] Error writing bytes to file. Detail:".
    out = tmp_path / "dataset"
    with file_size_limit(4096), pytest.raises(UsageStoreError) as raised:
        store.export(ACCOUNT, DAY, DAY + timedelta(days=1), format="parquet", out=out)
    assert str(raised.value) == f"cannot write {out}: File too large"
    assert raised.value.path == out
    assert not out.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["day.csv", "day.json", "day.parquet", "day.png"])
def test_an_out_in_a_folder_that_does_not_exist_names_the_folder_and_changes_nothing(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path, name: str
) -> None:
    # Before: "cannot write DIR/missing/day.csv: No such file or directory", which file?
    out = tmp_path / "missing" / name
    command = "chart" if name.endswith(".png") else "export"
    run = cli("usage", command, ESI, "--from", "2026-07-14", "--to", "2026-07-14",
              "--db", str(store_path), "--out", str(out))  # fmt: skip
    line = assert_one_error_line(run, f"usage {command}", "error")
    assert line.endswith(
        f"cannot write {out}: the folder {out.parent} does not exist; make it first, or give "
        "another path"
    ), line
    assert not out.parent.exists()


def test_item6_a_disk_that_fills_up_mid_export_is_one_line_in_the_cli(
    clean_env: None, store_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "day.csv"
    out.write_text("EARLIER")
    argv = ["usage", "export", ESI, "--from", "2026-07-14", "--to", "2026-07-15"]
    result = subprocess.run(
        [sys.executable, "-m", "oeus_kraken", *argv, "--db", str(store_path), "--out", str(out)],
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    run = Run(result.returncode, result.stdout, result.stderr)
    assert "File too large" in assert_one_error_line(run, "usage export", "error")
    assert out.read_text() == "EARLIER"
    assert leftovers(tmp_path) == []


def test_item6_out_dash_is_standard_output(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = cli("usage", "export", ESI, "--from", "2026-07-14", "--to", "2026-07-14",
              "--db", str(store_path), "--out", "-")  # fmt: skip
    assert run.code == 0, run.err
    assert run.out.splitlines()[0].startswith("esi_id,")
    assert len(run.out.splitlines()) == 1 + 96
    assert not (tmp_path / "-").exists()


def test_item6_an_out_that_is_a_symlink_replaces_the_file_it_points_to(
    store: UsageStore, tmp_path: Path
) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "day.csv"
    target.write_text("EARLIER")
    link = tmp_path / "day.csv"
    link.symlink_to(target)
    assert store.export(ESI, DAY, DAY, out=link) == 96
    assert link.is_symlink()
    assert len(target.read_text().splitlines()) == 1 + 96
    assert mode(target) == 0o600
    assert leftovers(tmp_path) == leftovers(tmp_path / "real") == []


def test_an_out_file_made_read_only_is_refused_and_kept(store: UsageStore, tmp_path: Path) -> None:
    # An export chmodded 0444 to keep it: the rename into a writable folder replaced it all
    # the same (a plain `> day.csv` is refused), mode and all. A chart's likewise.
    kept = [tmp_path / "day.csv", tmp_path / "day.png"]
    for path in kept:
        path.write_text("KEPT")
        path.chmod(0o444)
    with pytest.raises(UsageStoreError) as raised:
        store.export(ESI, DAY, DAY, out=kept[0])
    assert str(raised.value) == (
        f"cannot write {kept[0]}: it is read-only, so it is left as it is; make it writable to "
        "replace it, or give another name"
    )
    with pytest.raises(UsageStoreError, match="it is read-only"):
        chart(store, ESI, DAY, DAY, kept[1])
    assert [(p.read_text(), mode(p)) for p in kept] == [("KEPT", 0o444)] * 2
    assert leftovers(tmp_path) == []


def test_item6_an_out_that_is_a_fifo_is_written_into_not_replaced(
    store: UsageStore, tmp_path: Path
) -> None:
    # A named pipe (or /dev/stdout, a device) cannot be replaced by a renamed file: the export
    # is written into it, and it is still a pipe afterwards.
    fifo = tmp_path / "day.csv"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the writer need not wait
    try:
        assert store.export(ESI, DAY, DAY, out=fifo) == 96
        received = b""
        while chunk := os.read(reader, 65536):
            received += chunk
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert len(received.decode().splitlines()) == 1 + 96
    assert leftovers(tmp_path) == []


def test_item6_export_to_a_text_stream_writes_the_text(store: UsageStore) -> None:
    # sys.stdout, an open(..., "w") file or a StringIO: text, as to a binary stream's bytes.
    text, binary = io.StringIO(), io.BytesIO()
    assert store.export(ESI, DAY, DAY, out=text, format="json") == 96
    store.export(ESI, DAY, DAY, out=binary, format="json")
    assert text.getvalue() == binary.getvalue().decode("utf-8")


# -- 7. Read-only stores -----------------------------------------------------------------------


@pytest.fixture
def read_only_store(store_path: Path, tmp_path: Path) -> Iterator[Path]:
    """The store on a read-only file system."""
    with read_only_view(store_path, tmp_path / "read-only") as path:
        yield path


@contextlib.contextmanager
def read_only_view(store_path: Path, view: Path) -> Iterator[Path]:
    """`store_path` on a read-only file system: a read-only bind mount of its folder at `view`
    (root can write past file modes, not past that); for another user, its folder and files
    made 0555."""
    view.mkdir()
    if os.geteuid() != 0:
        for path in store_path.parent.iterdir():
            path.chmod(0o444)
        store_path.parent.chmod(0o555)
        yield store_path
        store_path.parent.chmod(0o755)
        return
    mounts = (["mount", "--bind", str(store_path.parent), str(view)],
              ["mount", "-o", "remount,ro,bind", str(view)])  # fmt: skip
    try:
        for command in mounts:
            subprocess.run(command, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"root here cannot mount a read-only view to test against ({exc})")
    try:
        yield view / store_path.name
    finally:
        subprocess.run(["umount", str(view)], check=False, capture_output=True)


def test_item7_a_read_only_store_whose_wal_holds_writes_serves_them_too(tmp_path: Path) -> None:
    # A copy taken while a sync had it open: the last writes are in usage.sqlite3-wal, and
    # there is no -shm, which SQLite cannot make on read-only media. Opened `immutable`, the
    # store ignored its WAL: status said "(none)" and export "has no ESI ID", of a full store.
    source, copy = tmp_path / "source", tmp_path / "copy"
    source.mkdir()
    copy.mkdir()
    with UsageStore(source / "usage.sqlite3") as writing:
        writing.link(ACCOUNT, ESI)
        writing.upsert(day_intervals(DAY), fetched_at=FETCHED)
        for name in ("usage.sqlite3", "usage.sqlite3-wal"):
            shutil.copy(source / name, copy / name)
    assert (copy / "usage.sqlite3-wal").stat().st_size > 0
    with (
        read_only_view(copy / "usage.sqlite3", tmp_path / "read-only") as path,
        UsageStore(path, read_only=True) as store,
    ):
        [status] = store.status()
        assert (status.esi_id, status.intervals) == (ESI, 96)
        assert store.export(ESI, DAY, DAY, out=io.StringIO()) == 96
    assert sorted(p.name for p in copy.iterdir()) == ["usage.sqlite3", "usage.sqlite3-wal"]


@pytest.mark.slow
def test_item7_a_read_only_store_serves_status_export_and_chart(
    cli: Cli, clean_env: None, read_only_store: Path, tmp_path: Path
) -> None:
    db = ("--db", str(read_only_store))
    status = cli("usage", "status", *db)
    assert status.code == 0, status.err
    assert ESI in status.out
    export = cli("usage", "export", ESI, "--from", "2026-07-14", "--to", "2026-07-14", *db)
    assert export.code == 0, export.err
    assert len(export.out.splitlines()) == 1 + 96
    out = tmp_path / "c.png"
    chart = cli("usage", "chart", ESI, "--from", "2026-07-14", "--to", "2026-07-15", "--out",
                str(out), *db)  # fmt: skip
    assert chart.code == 0, chart.err
    assert out.exists()


def test_item7_a_sync_on_a_read_only_store_says_so_in_one_line(
    cli: Cli, sandbox_env: None, read_only_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    run = cli("usage", "sync", ACCOUNT, "--db", str(read_only_store))
    line = assert_one_error_line(run, "usage sync", "error")
    assert "is read-only" in line
    assert str(read_only_store) in line


def test_item7_opening_read_only_writes_nothing(store_path: Path) -> None:
    before = store_path.read_bytes()
    with UsageStore(store_path, read_only=True) as store:
        assert store.status()
        with pytest.raises(UsageStoreError, match="read-only"):
            store.link("A-00000001", ESI)
        with pytest.raises(UsageStoreError, match="read-only"), store.sync_lock():
            pass
    assert store_path.read_bytes() == before
    assert not store_path.with_name(store_path.name + ".lock").exists()


# -- 8. Honest formats and exit statuses -----------------------------------------------------------


def test_item8_hourly_and_daily_exports_have_a_row_for_every_hour_and_day(
    tmp_path: Path,
) -> None:
    with UsageStore(tmp_path / "u.sqlite3") as store:
        # Day 1: 01:00-02:00 missing (an hour with nothing), 05:15 missing (an hour with 3).
        store.upsert(day_intervals(DAY, skip=frozenset({4, 5, 6, 7, 21})), fetched_at=FETCHED)
        store.upsert(day_intervals(DAY + timedelta(days=2)), fetched_at=FETCHED)  # day 2: none
        last = DAY + timedelta(days=2)
        hours = store.export(ESI, DAY, last, interval="hour", out=tmp_path / "h.csv")
        days = store.export(ESI, DAY, last, interval="day", out=tmp_path / "d.json")
    assert hours == 72
    assert days == 3
    rows = (tmp_path / "h.csv").read_text().splitlines()
    assert rows[0].endswith("intervals,expected_intervals,complete")
    assert rows[2].split(",")[5:] == ["", "", "0", "4", "false"]  # 01:00: no interval
    assert rows[6].split(",")[-3:] == ["3", "4", "false"]  # 05:00: three of four
    assert rows[1].split(",")[-3:] == ["4", "4", "true"]
    import json

    day_rows = json.loads((tmp_path / "d.json").read_text())
    assert [(d["intervals"], d["expected_intervals"], d["complete"]) for d in day_rows] == [
        (91, 96, False),
        (0, 96, False),
        (96, 96, True),
    ]
    assert day_rows[1]["kwh"] is None


def test_item8_exit_statuses_are_distinct_and_documented(cli: Cli, clean_env: None) -> None:
    assert len(set(EXIT_CODES.values())) == len(EXIT_CODES)
    readme = README.read_text(encoding="utf-8")
    table = readme[readme.index("### Exit statuses") :]
    for code in EXIT_CODES.values():
        assert re.search(rf"^\| {code} \|", table, re.MULTILINE), code
    help_text = cli("--help").out + cli("usage", "sync", "--help").out
    for code in EXIT_CODES.values():
        assert f"{code} " in help_text


@pytest.mark.slow
def test_item8_the_output_format_follows_the_out_extension_or_a_mismatch_is_refused(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path
) -> None:
    day = ("--from", "2026-07-14", "--to", "2026-07-14", "--db", str(store_path))
    parquet = cli("usage", "export", ESI, *day, "--out", str(tmp_path / "x.parquet"))
    assert parquet.code == 0, parquet.err
    assert (tmp_path / "x.parquet" / "date=2026-07-14" / f"{ESI}.parquet").is_file()
    as_json = cli("usage", "export", ESI, *day, "--out", str(tmp_path / "x.json"))
    assert as_json.code == 0
    assert (tmp_path / "x.json").read_text().startswith("[")
    mismatch = cli("usage", "export", ESI, *day, "--json", "--out", str(tmp_path / "y.csv"))
    assert "names CSV" in assert_one_error_line(mismatch, "usage export", "usage")
    assert not (tmp_path / "y.csv").exists()
    svg = cli("usage", "chart", ESI, *day, "--out", str(tmp_path / "c.svg"))
    assert svg.code == 0, svg.err
    assert "<svg" in (tmp_path / "c.svg").read_text()
    pdf = cli("usage", "chart", ESI, *day, "--out", str(tmp_path / "c.pdf"))
    assert ".png or .svg" in assert_one_error_line(pdf, "usage chart", "usage")
    assert not (tmp_path / "c.pdf").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "url",
    [
        "http://alice:pw-SECRET@127.0.0.1:9/v1/graphql/?apikey=KEY-SECRET",
        "ftp://alice:pw-SECRET@example.com/x?apikey=KEY-SECRET",
        "http://alice:pw-SECRET@[::1/x?apikey=KEY-SECRET",
        "http://127.0.0.1:9/v1/graphql/#KEY-SECRET",
    ],
)
def test_item8_the_cli_scrubs_userinfo_and_query_from_any_url_it_prints(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    run = cli("viewer", "--url", url)
    assert run.code != 0
    assert "SECRET" not in run.err + run.out
    assert "alice" not in run.err + run.out
    assert len(run.err_lines) == 1


def test_item8_db_and_out_expand_the_tilde(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    (home / "u.sqlite3").write_bytes(store_path.read_bytes())
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    run = cli("usage", "export", ESI, "--from", "2026-07-14", "--to", "2026-07-14",
              "--db", "~/u.sqlite3", "--out", "~/day.csv")  # fmt: skip
    assert run.code == 0, run.err
    assert len((home / "day.csv").read_text().splitlines()) == 1 + 96
    assert not (cwd / "~").exists()


# -- 9. One lock library -------------------------------------------------------------------------


def test_item9_the_sync_lock_is_filelocks_and_still_names_the_holder(
    store: UsageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import filelock

    source = inspect.getsource(_store)
    assert "fcntl" not in source
    assert "msvcrt" not in source
    made: list[str] = []

    class Spy(filelock.FileLock):  # type: ignore[misc]
        def __init__(self, path: Any, *args: Any, **kwargs: Any) -> None:
            made.append(str(path))
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(filelock, "FileLock", Spy)
    held = rf"process {os.getpid()} on \S+ holds its lock"
    with (
        UsageStore(store.path) as other,
        store.sync_lock(),
        pytest.raises(UsageStoreError, match=held),
        other.sync_lock(),
    ):
        pass
    assert made == [f"{store.path}.lock"] * 2
    with store.sync_lock():  # released
        pass
