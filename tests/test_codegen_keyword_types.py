"""Schema types whose names are Python keywords, used by the operations."""

from __future__ import annotations

from pathlib import Path

import pytest
from codegen_helpers import MAKE, codegen_here

# GraphQL allows any name for a type; an input type or an enum is a class of the same name.
SCHEMA = """\
type Query { thing(filter: from, kind: None): Thing }
type Thing { id: ID }
input from { size: Int }
enum None { A }
"""


def test_a_schema_type_named_like_a_python_keyword_is_refused_in_one_line(tmp_path: Path) -> None:
    # Before: a RuntimeError traceback from ariadne-codegen's formatting ("ruff format failed
    # (exit code 2): error: Failed to parse /tmp/tmp.../module_0.py:5:7: Expected an
    # identifier, but found a keyword `from`"), exit 1, the status of a --check diff.
    (tmp_path / "ops").mkdir()
    (tmp_path / "keywords.graphql").write_text(SCHEMA, encoding="utf-8")
    operation = "query a($f: from, $k: None) { thing(filter: $f, kind: $k) { id } }\n"
    (tmp_path / "ops" / "a.graphql").write_text(operation, encoding="utf-8")
    run = codegen_here(*MAKE, "--schema", "keywords.graphql", cwd=tmp_path)
    assert (run.code, run.out) == (2, ""), run.err
    [line] = run.err.splitlines()
    assert line.startswith("oeus-kraken codegen: the schema's types None, from are Python "), line
    assert not (tmp_path / "src").exists()


@pytest.mark.parametrize(
    ("schema_type", "says"),
    [
        ("enum Optional { A }", "type Optional would be imported over typing's Optional"),
        ("enum str { A }", "type str would be imported over Python's builtin str"),
        ("input list { size: Int }", "type list would be imported over Python's builtin list"),
    ],
    ids=["a typing name", "a builtin the answer's model means", "a builtin the clients mean"],
)
def test_a_schema_type_imported_over_a_name_the_module_uses_is_refused(
    tmp_path: Path, schema_type: str, says: str
) -> None:
    # An enum or input type is imported by its name wherever it is used. Before, codegen wrote
    # the package: `enum Optional` was a NameError on import, `enum str` replaced the `str` of
    # `id: Optional[str]` (every answer failed to validate), `input list` the clients' `list`.
    name = schema_type.split()[1]
    schema = f"type Query {{ thing(x: {name}): Thing }}\ntype Thing {{ id: ID }}\n{schema_type}\n"
    (tmp_path / "ops").mkdir()
    (tmp_path / "types.graphql").write_text(schema, encoding="utf-8")
    operation = f"query a($x: {name}) {{ thing(x: $x) {{ id }} }}\n"
    (tmp_path / "ops" / "a.graphql").write_text(operation, encoding="utf-8")
    run = codegen_here(*MAKE, "--schema", "types.graphql", cwd=tmp_path)
    assert (run.code, run.out) == (2, ""), run.err
    [line] = run.err.splitlines()
    assert says in line
    assert line.endswith(": leave it out of the operations")
    assert not (tmp_path / "src").exists()
