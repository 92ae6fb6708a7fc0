"""Enum values whose Python member names would clash with each other or with `str`'s methods.

Generated enums are `OpenEnum(str, Enum)`: a member named like a method of `str` (`upper`,
`format`) replaces that method for every member, and renaming a value Python refuses (`class`,
`mro`, `_x_`) must not give a name another value of the same enum already has.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from codegen_helpers import generate_from, imported, mypy_strict

# Each renamed value beside a value already spelt like its renamed form; and values named like
# `str`'s methods, which a `str` enum's members would replace.
CLASHING_ENUM_SCHEMA = """\
type Query {
  thing(kind: Kind, filter: Filter): Thing
}
enum Kind { class class_ mro mro_ _x_ x_ upper format count title A }
input Filter { kind: Kind = class_ kinds: [Kind] = [class, class_, upper] }
type Thing { kind: Kind }
"""


OPERATION = "query a($f: Filter) { thing(filter: $f) { kind } }\n"


def test_enum_values_whose_python_names_would_clash_are_distinct_members(tmp_path: Path) -> None:
    # Before, `class` and `class_` were both the member `class_` (so were `mro`/`mro_` and
    # `_x_`/`x_`): codegen said it wrote the package, and importing it raised TypeError
    # "'class_' already defined". And `upper` was a member, so `Kind.A.upper()` raised
    # "'Kind' object is not callable".
    with imported(
        generate_from(tmp_path, CLASHING_ENUM_SCHEMA, OPERATION), "my_kraken"
    ) as my_kraken:
        kind = importlib.import_module("my_kraken.enums").Kind
        values = ["class", "class_", "mro", "mro_", "_x_", "x_", "upper", "format", "count"]
        assert [m.value for m in kind] == [*values, "title", "A"]
        assert len({m.name for m in kind}) == len(kind)  # no value lost to another's name
        # A value spelt as Python takes it keeps its name; the renamed one moves aside.
        assert (kind.class_.value, kind.mro_.value, kind.x_.value) == ("class_", "mro_", "x_")
        assert (kind("class"), kind("mro"), kind("_x_")) == (kind.class__, kind.mro__, kind.x__)
        assert kind("upper") is kind.upper_
        assert (kind.A.upper(), kind.A.format(), kind.A.count("A"), kind.A.title()) == (
            "A",
            "A",
            1,
            "A",
        )
        assert kind("ADDED_LATER").value == "ADDED_LATER"  # still open to new values
        default = my_kraken.Filter()
        assert default.kind is kind.class_
        assert default.kinds == [kind.class__, kind.class_, kind.upper_]
        answer = {"thing": {"kind": "class"}}
        assert my_kraken.A.model_validate(answer).thing.kind is kind.class__


@pytest.mark.slow  # mypy
def test_a_package_with_enum_values_named_like_str_methods_passes_mypy_strict(
    tmp_path: Path,
) -> None:
    # Before: "Incompatible types in assignment (expression has type "Kind", base class "str"
    # defined the type as ...)" for `upper`, `format`, `count` and `title`.
    schema = CLASHING_ENUM_SCHEMA.replace(" kinds: [Kind] = [class, class_, upper]", "")
    result = mypy_strict(generate_from(tmp_path, schema, OPERATION), tmp_path)
    assert result.returncode == 0, result.stdout
