"""The usage store: a `--db` naming another program's SQLite
database is refused, and that database is left exactly as it was (its bytes, its journal mode,
its file mode): it is someone else's file.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import Cli, assert_one_error_line, clean_env, cli

from oeus_kraken import ConfigurationError
from oeus_kraken.usage import UsageStore, UsageStoreError, UsageStoreLockedError

__all__ = ["clean_env", "cli"]  # fixtures, used by name


@pytest.fixture
def other_programs_database(tmp_path: Path) -> Path:
    """A SQLite file of another program's: rollback journal (SQLite's default), mode 0644."""
    path = tmp_path / "places.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    path.chmod(0o644)
    return path


def as_it_was(path: Path, before: bytes) -> bool:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    return (
        path.read_bytes() == before
        and journal == "delete"
        and stat.S_IMODE(path.stat().st_mode) == 0o644
    )


def test_another_programs_database_is_refused_before_anything_of_it_changes(
    other_programs_database: Path,
) -> None:
    before = other_programs_database.read_bytes()
    with pytest.raises(UsageStoreError, match="SQLite database of something else"):
        UsageStore(other_programs_database)
    assert as_it_was(other_programs_database, before)


def test_usage_sync_with_db_naming_another_programs_database_changes_nothing_of_it(
    cli: Cli, clean_env: None, other_programs_database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_URL", "http://127.0.0.1:9/v1/graphql/")  # nothing is asked
    monkeypatch.setenv("KRAKEN_API_KEY", "sk_test_probe13")
    before = other_programs_database.read_bytes()
    run = cli("usage", "sync", "A-1234ABCD", "--db", str(other_programs_database))
    assert "something else" in assert_one_error_line(run, "usage sync", "error")
    assert as_it_was(other_programs_database, before)


def test_a_sync_through_a_symlink_to_the_store_is_refused_while_another_holds_it(
    tmp_path: Path,
) -> None:
    """Two syncs of one store at once spend the hour's points budget twice over: the lock is
    the store's, whichever path names it."""
    store_path = tmp_path / "usage.sqlite3"
    (tmp_path / "link.sqlite3").symlink_to(store_path.name)
    with UsageStore(store_path) as store, UsageStore(tmp_path / "link.sqlite3") as linked:
        for holder, second in ((store, linked), (linked, store)):
            with holder.sync_lock(), pytest.raises(UsageStoreLockedError), second.sync_lock():
                pass


@pytest.mark.parametrize("read_only", [False, True])
def test_a_store_path_the_os_refuses_is_a_usage_store_error(
    tmp_path: Path, read_only: bool
) -> None:
    """A file name too long (or a folder on the way that may not be searched) was a bare
    OSError out of the constructor, and the CLI said 'cannot write' for status and export."""
    path = tmp_path / ("a" * 300 + ".sqlite3")
    with pytest.raises(UsageStoreError, match="File name too long") as caught:
        UsageStore(path, read_only=read_only)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (("usage", "status"), "error"),
        (("usage", "export", "A-1234ABCD", "--from", "2026-07-14", "--to", "2026-07-14"), "error"),
    ],
)
def test_a_read_only_command_never_says_it_cannot_write_the_store_it_reads(
    cli: Cli, clean_env: None, tmp_path: Path, command: tuple[str, ...], code: str
) -> None:
    run = cli(*command, "--db", str(tmp_path / ("a" * 300 + ".sqlite3")))
    line = assert_one_error_line(run, " ".join(command[:2]), code)
    assert "cannot write" not in line
    assert "File name too long" in line


@pytest.mark.parametrize(
    "command",
    [
        ("usage", "forget", "10443720000000001", "--from", "2026-07-14", "--to", "2026-07-14"),
        ("usage", "status"),
    ],
)
def test_a_db_that_is_a_named_pipe_is_refused_as_one_and_nothing_is_made_beside_it(
    cli: Cli, clean_env: None, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A device or a named pipe given as --db (/dev/null, a FIFO): SQLite said "disk I/O error"
    (nothing about what to do) and left a `-journal` file beside it, 0666 beside /dev/null."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    run = cli(*command, "--db", str(fifo))
    line = assert_one_error_line(run, " ".join(command[:2]), "error")
    assert "named pipe, not a usage store" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    with pytest.raises(UsageStoreError, match="not a usage store") as caught:
        UsageStore(fifo)
    assert caught.value.path == fifo


def test_a_store_with_a_second_name_is_not_written_through_either_and_still_reads(
    cli: Cli, clean_env: None, tmp_path: Path
) -> None:
    """Two syncs through two hard links of one store ran at once (the lock and SQLite's
    write-ahead log are files beside each name) and damaged it: "UNIQUE constraint failed"."""
    path = tmp_path / "usage.sqlite3"
    with UsageStore(path) as store:
        store.link("A-1234ABCD", "10443720000000001")
    other = tmp_path / "backup.sqlite3"
    os.link(path, other)
    before = path.read_bytes()
    for name in (path, other):
        with pytest.raises(UsageStoreError, match="other name") as caught:
            UsageStore(name)
        assert caught.value.path == name
        with UsageStore(name, read_only=True) as store:
            assert store.accounts() == ["A-1234ABCD"]
    run = cli(
        "usage",
        "forget",
        "10443720000000001",
        "--from",
        "2026-07-14",
        "--to",
        "2026-07-14",
        "--db",
        str(other),
    )
    assert "hard links" in assert_one_error_line(run, "usage forget", "error")
    assert path.read_bytes() == before


def test_a_path_holding_a_nul_character_is_a_configuration_error_not_a_bare_value_error(
    tmp_path: Path,
) -> None:
    # Before: ValueError("embedded null byte") out of the constructor and out of export.
    with pytest.raises(ConfigurationError, match="NUL character"):
        UsageStore(str(tmp_path / "usage\0.sqlite3"))
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        store.link("A-1234ABCD", "10443720000000001")
        with pytest.raises(ConfigurationError, match="NUL character"):
            store.export("A-1234ABCD", date(2026, 7, 14), date(2026, 7, 14), out="x\0.csv")
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith("usage.sqlite3")]


def test_a_store_made_read_only_is_not_written_even_by_root_and_keeps_its_mode(
    cli: Cli, clean_env: None, tmp_path: Path
) -> None:
    # Before, as root (whom access(2) lets write whatever the mode): `forget` deleted readings
    # from a store its user had made read-only, and a sync made it 0600, writable again.
    path = tmp_path / "usage.sqlite3"
    with UsageStore(path) as store:
        store.link("A-1234ABCD", "10443720000000001")
    path.chmod(0o444)
    before = path.read_bytes()
    with pytest.raises(UsageStoreError, match="is read-only"):
        UsageStore(path)
    run = cli("usage", "forget", "10443720000000001", "--from", "2026-07-14", "--to",
              "2026-07-14", "--db", str(path))  # fmt: skip
    assert "is read-only" in assert_one_error_line(run, "usage forget", "error")
    with UsageStore(path, read_only=True) as store:
        assert store.accounts() == ["A-1234ABCD"]
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
