"""The schema path `oeus-kraken codegen` names in its refusals is the one it was given."""

from __future__ import annotations

from pathlib import Path

from codegen_helpers import MAKE, VIEWER, codegen_here


def test_a_schema_that_is_no_file_is_named_as_given_when_it_is_refused(tmp_path: Path) -> None:
    # `--schema /dev/null` (or a pipe, `--schema <(curl ...)`) is copied to a scratch file so
    # that it can be read more than once. Before, the refusal named that copy
    # ("/tmp/tmpfyzyecp8/schema.graphql: not a valid GraphQL schema"), a file the user never
    # gave and that is gone once the command ends; `schema diff` names `/dev/null`.
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "viewer.graphql").write_text(VIEWER, encoding="utf-8")
    run = codegen_here(*MAKE, "--schema", "/dev/null", cwd=tmp_path)
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith("oeus-kraken codegen: /dev/null: not a valid GraphQL schema: "), (
        run.err
    )
    assert not (tmp_path / "src").exists()
