"""A non-null variable with a default value (`$first: Int! = 10`) may be left out of a call."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import httpx
import pytest
from codegen_helpers import generate_from, imported, mypy_strict

SCHEMA = "type Query { products(first: Int!, after: String, kind: String!): [String] }\n"
OPERATION = (
    "query a($first: Int! = 10, $after: String, $kind: String!) "
    "{ products(first: $first, after: $after, kind: $kind) }\n"
)


def test_a_non_null_variable_with_a_default_is_a_parameter_that_may_be_left_out(
    tmp_path: Path,
) -> None:
    # GraphQL lets a call leave out a variable that has a default, and the server uses the
    # default. Before, `$first: Int! = 10` was the required parameter `first: int`: every call
    # had to repeat the default written in the operation.
    sent: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, json={"data": {"products": ["x"]}})

    with imported(generate_from(tmp_path, SCHEMA, OPERATION), "my_kraken") as my_kraken:
        parameters = inspect.signature(my_kraken.SyncKrakenClient.a).parameters.values()
        required = [p.name for p in parameters if p.default is p.empty and p.kind != p.VAR_KEYWORD]
        assert required == ["self", "kind"]
        with (
            httpx.Client(transport=httpx.MockTransport(answer)) as http,
            my_kraken.SyncKrakenClient("https://kraken.example/graphql/", http_client=http) as k,
        ):
            assert k.a(kind="k").products == ["x"]
            assert k.a(kind="k", first=5).products == ["x"]
    variables = [json.loads(body)["variables"] for body in sent]
    assert variables == [{"kind": "k"}, {"first": 5, "kind": "k"}]


@pytest.mark.slow  # mypy
def test_a_package_with_a_defaulted_non_null_variable_passes_mypy_strict(tmp_path: Path) -> None:
    result = mypy_strict(generate_from(tmp_path, SCHEMA, OPERATION), tmp_path)
    assert result.returncode == 0, result.stdout
