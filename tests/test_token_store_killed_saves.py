"""A process killed in the middle of saving its tokens (SIGKILL, a power cut, the OOM killer)
leaves no copy of them behind for good: the next save to the same store removes the temporary
file it was writing, which held its token and refresh token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oeus_kraken import FileTokenStore, StoredTokens

TOKEN = "TOKEN-killed-mid-save-SECRET-7d2a"
REFRESH = "REFRESH-killed-mid-save-SECRET-90c1"

# Saves its tokens, and dies by SIGKILL in the one moment between writing the temporary file and
# renaming it over the store: where a kill at any time lands, once in a while.
KILLED_MID_SAVE = f"""
import os, signal, sys
from oeus_kraken import FileTokenStore, StoredTokens

def killed(*_args):
    os.kill(os.getpid(), signal.SIGKILL)

os.replace = killed
FileTokenStore(sys.argv[1]).save("key", StoredTokens({{}}, {TOKEN!r}, {REFRESH!r}))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL: POSIX")
def test_the_tokens_of_a_process_killed_mid_save_do_not_stay_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_SAVE, str(path)], check=False)
    assert killed.returncode == -9
    assert any(TOKEN in p.read_text() for p in tmp_path.iterdir() if p.is_file())  # (the orphan)

    FileTokenStore(path).save("key", StoredTokens({}, "TOKEN-of-the-next-process"))

    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"tokens.json", "tokens.json.lock"}
    assert not any(TOKEN in p.read_text() or REFRESH in p.read_text() for p in tmp_path.iterdir())


def test_a_save_leaves_the_temporary_files_of_another_store_in_the_same_folder(
    tmp_path: Path,
) -> None:
    """Only this store's own: another store beside it (other.json) may be mid-save, under its
    own lock, not this one's."""
    other = tmp_path / ".tokens-abcdefgh-other.json"
    other.write_text("another store's save under way")
    FileTokenStore(tmp_path / "tokens.json").save("key", StoredTokens({}, "TOKEN-x"))
    assert other.exists()
