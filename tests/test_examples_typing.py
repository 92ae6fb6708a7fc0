"""The typed client catches mistakes before anything runs.

A user's script that misspells a result field must fail `mypy --strict`, with an error naming the
field. The unchanged example must pass, so the failure is the misspelling's and nothing else's.
Both copies of examples/list_accounts.py are checked in the suite's one mypy run (`mypy_errors`,
conftest.py), with the project's mypy settings.
"""

from __future__ import annotations

import pytest
from conftest import readme_python_snippets

pytestmark = pytest.mark.slow  # mypy, once per test run


def test_the_example_as_written_passes_mypy_strict(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["example_as_written.py"] == []


def test_a_misspelt_result_field_fails_mypy_strict(mypy_errors: dict[str, list[str]]) -> None:
    errors = mypy_errors["example_misspelt.py"]
    assert errors
    assert all("balanse" in line for line in errors), errors
    assert '"GetViewerViewerAccounts" has no attribute "balanse"' in errors[0]


def test_a_users_generated_methods_take_the_call_keywords_typed(
    mypy_errors: dict[str, list[str]],
) -> None:
    """`timeout=` and `options=` pass; a misspelt keyword (or a variable's parameter without its
    trailing _) fails mypy --strict, instead of failing when called."""
    assert mypy_errors["use_my_kraken_keywords.py"] == []
    errors = mypy_errors["use_my_kraken_keyword_misspelt.py"]
    assert len(errors) == 1, errors
    assert 'Unexpected keyword argument "timeuot" for "my_products"' in errors[0]


@pytest.mark.parametrize("snippet", list(readme_python_snippets()))
def test_every_python_snippet_in_the_readme_passes_mypy_strict(
    mypy_errors: dict[str, list[str]], snippet: str
) -> None:
    """A user pastes the README's code into a project checked by `mypy --strict`: it must pass
    there as it is (a snippet using a `kraken` it does not make gets a client made before it)."""
    assert mypy_errors[snippet] == []


def test_usage_sync_options_are_typed(mypy_errors: dict[str, list[str]]) -> None:
    """Before, sync_usage and sync_usage_blocking took **options: Any: mypy passed a misspelt
    option, which only the run refused."""
    assert mypy_errors["sync_options.py"] == []
    errors = mypy_errors["sync_option_misspelt.py"]
    assert any('"max_request"' in line for line in errors), errors
    assert any('"concurrency"' in line for line in errors), errors


def test_from_env_options_are_typed_as_the_constructors_are(
    mypy_errors: dict[str, list[str]],
) -> None:
    assert mypy_errors["from_env_options.py"] == []
    errors = mypy_errors["from_env_option_misspelt.py"]
    assert any('"timout"' in line for line in errors), errors
    assert any('"max_retries"' in line for line in errors), errors
