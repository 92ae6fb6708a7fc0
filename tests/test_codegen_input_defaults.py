"""Input fields whose schema default is a list or an input object, in a generated package."""

from __future__ import annotations

from pathlib import Path

import pytest
from codegen_helpers import generate_from, imported, mypy_strict

# Each default ariadne-codegen wrote as Python that failed: an enum inside an object default
# (`Range.B`), a list of input objects (a list holding pydantic's FieldInfo), a list of nullable
# items (`list[int]` is no `list[Optional[int]]` to mypy), one item standing for a list.
DEFAULTS_SCHEMA = """\
type Query {
  things(filter: Filter): [String]
}
enum Kind { A B class }
input Range { size: Int = 1 kind: Kind = A }
input Filter {
  ids: [Int] = [1, 2]
  kinds: [Kind] = [A, class]
  range: Range = {size: 2, kind: B}
  ranges: [Range] = [{size: 3}]
  pageSizes: [Int] = [10]
  nested: [[Int]] = [[1], 2]
  none: [Int] = []
  kind: Kind = class
  lastKind: Kind = class
}
"""


OPERATION = "query a($f: Filter) { things(filter: $f) }\n"


def test_input_fields_default_to_the_schemas_list_and_object_values(tmp_path: Path) -> None:
    # Before, `Filter()` raised AttributeError: B (the enum value written as `Range.B`), and a
    # list of input objects defaulted to [FieldInfo(...)], which was sent as such.
    with imported(generate_from(tmp_path, DEFAULTS_SCHEMA, OPERATION), "my_kraken") as my_kraken:
        made = my_kraken.Filter()
        assert made.model_dump(by_alias=True, mode="json") == {
            "ids": [1, 2],
            "kinds": ["A", "class"],
            "range": {"size": 2, "kind": "B"},
            "ranges": [{"size": 3, "kind": "A"}],
            "pageSizes": [10],
            "nested": [[1], [2]],
            "none": [],
            "kind": "class",
            "lastKind": "class",
        }
        assert isinstance(made.ranges[0], my_kraken.Range)
        assert made.kinds == [my_kraken.Kind.A, my_kraken.Kind("class")]
        made.ids.append(3)  # each model has its own list
        assert my_kraken.Filter().ids == [1, 2]
        assert my_kraken.Filter(page_sizes=[5]).page_sizes == [5]


@pytest.mark.slow  # mypy
def test_a_package_with_list_and_object_input_defaults_passes_mypy_strict(
    tmp_path: Path,
) -> None:
    # Before: "Incompatible types in assignment (expression has type "list[int]", variable has
    # type "list[int | None] | None")", and "type[Range]" has no attribute "B".
    result = mypy_strict(generate_from(tmp_path, DEFAULTS_SCHEMA, OPERATION), tmp_path)
    assert result.returncode == 0, result.stdout
