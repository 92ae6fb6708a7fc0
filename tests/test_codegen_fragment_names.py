"""Classes an operation's module names after a fragment: a field selecting only a fragment spread
is no class of its own but a name for the fragment's (`AViewer = AccountFields`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from codegen_helpers import MAKE, codegen_here, write_small_schema

FRAGMENT = "fragment {name} on AccountUserType {{ email }}\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            # a.py's `AViewer = X` and a_viewer.py's class AViewer: the package exported one.
            "query a { viewer { ...X } }\nquery aViewer { viewer { id } }\n"
            + FRAGMENT.format(name="X"),
            "operation aViewer would define the class AViewer, which ops/a.graphql:1:1: operation",
        ),
        (
            # a.py's `AViewer = AViewer`, the fragment's class as the field's.
            "query a { viewer { ...AViewer } }\n" + FRAGMENT.format(name="AViewer"),
            "operation a would define the class AViewer, over the AViewer its generated module",
        ),
    ],
    ids=["an operation's class", "the fragment's own name"],
)
def test_a_field_named_after_a_fragment_is_refused_where_its_name_is_taken(
    tmp_path: Path, text: str, says: str
) -> None:
    # Before, codegen wrote the package: it exported one of the two AViewer classes (the other
    # operation's answer lost its type), and mypy --strict failed ("Incompatible import of
    # "AViewer"", "Module "my_kraken.a" does not explicitly export attribute "AViewer"").
    write_small_schema(tmp_path)
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "a.graphql").write_text(text, encoding="utf-8")
    run = codegen_here(*MAKE, "--schema", "small.graphql", cwd=tmp_path)
    assert (run.code, run.out) == (2, ""), run.err
    assert says in run.err
    assert len(run.err.splitlines()) == 1
    assert not (tmp_path / "src").exists()
