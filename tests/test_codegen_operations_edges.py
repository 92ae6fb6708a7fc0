"""`oeus-kraken codegen` on operations an integrator may well write: variables named like the
keywords every generated method takes besides its variables (`headers`, `timeout`,
`extensions`, `options`: `oeus_kraken.CallKeywords`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from codegen_helpers import MAKE, codegen_here, imported, write_small_schema

from oeus_kraken import CallKeywords

# A variable named like each keyword of CallKeywords (a method's `**kwargs`).
CALL_KEYWORD_NAMES = """\
query pick($headers: Boolean, $timeout: Boolean, $extensions: Boolean, $options: Boolean) {
  products(prepay: $headers, basedOnTimeOfUse: $timeout) { code }
  again: products(prepay: $extensions, basedOnTimeOfUse: $options) { code }
}
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    write_small_schema(tmp_path)
    _write(tmp_path / "ops" / "pick.graphql", CALL_KEYWORD_NAMES)
    run = codegen_here(*MAKE, "--schema", "small.graphql", cwd=tmp_path)
    assert (run.code, run.err) == (0, "")
    return tmp_path


def test_variables_named_like_the_call_keywords_are_parameters_with_a_trailing_underscore(
    generated: Path,
) -> None:
    # Before, `$headers` was the parameter `headers` beside `**kwargs: Unpack[CallKeywords]`,
    # whose `headers` is the call's HTTP headers: the method could no longer take this call's
    # headers (or timeout, options), and `mypy --strict` refused the generated package
    # ("Overlap between parameter names and ** TypedDict items").
    assert set(CallKeywords.__annotations__) == {"headers", "timeout", "extensions", "options"}
    sent: list[bytes] = []
    seen_headers: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        seen_headers.append(request.headers.get("x-probe"))
        return httpx.Response(200, json={"data": {"products": [], "again": []}})

    with (
        httpx.Client(transport=httpx.MockTransport(answer)) as http,
        imported(generated / "src", "my_kraken") as my_kraken,
        my_kraken.SyncKrakenClient("http://127.0.0.1:9/v1/graphql/", http_client=http) as kr,
    ):
        kr.pick(headers_=True, timeout_=False, extensions_=True, options_=False,
                headers={"x-probe": "yes"}, timeout=5.0)  # fmt: skip
    variables = httpx.Response(200, content=sent[0]).json()["variables"]
    assert variables == {"headers": True, "timeout": False, "extensions": True, "options": False}
    assert seen_headers == ["yes"]


@pytest.mark.slow  # mypy
def test_a_package_with_variables_named_like_the_call_keywords_passes_mypy_strict(
    generated: Path,
) -> None:
    _write(generated / "plain.ini", "[mypy]\n")  # no plugins: what `mypy --strict` reads
    mypy = [sys.executable, "-m", "mypy", "--strict", "--config-file", str(generated / "plain.ini")]
    mypy += ["--cache-dir", str(generated / "cache"), "-p", "my_kraken"]
    checked = subprocess.run(
        mypy, cwd=generated / "src", capture_output=True, text=True, timeout=300, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
