"""Operations whose method would take the name of an attribute the client sets on itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from codegen_helpers import MAKE, codegen_here, write_small_schema


@pytest.mark.parametrize(
    ("operation", "method"),
    [
        ("url", "url"),
        ("auth", "auth"),
        ("HTTPClient", "http_client"),
        ("retryPolicy", "retry_policy"),
    ],
)
def test_an_operation_named_like_an_attribute_the_client_sets_is_refused(
    tmp_path: Path, operation: str, method: str
) -> None:
    # The client sets `url`, `auth`, `http_client` and `retry_policy` on itself when made, which
    # hides a method of the same name. Before, codegen wrote the package, whose
    # `kraken.url()` raised "TypeError: 'str' object is not callable", and mypy --strict failed
    # ("Signature of "url" incompatible with supertype").
    write_small_schema(tmp_path)
    (tmp_path / "ops").mkdir()
    text = f"query {operation} {{ viewer {{ email }} }}\n"
    (tmp_path / "ops" / "a.graphql").write_text(text, encoding="utf-8")
    run = codegen_here(*MAKE, "--schema", "small.graphql", cwd=tmp_path)
    assert (run.code, run.out) == (2, ""), run.err
    said = f"ops/a.graphql:1:1: operation {operation} would be {method}(), replacing the client's"
    assert said in run.err
    assert not (tmp_path / "src").exists()
