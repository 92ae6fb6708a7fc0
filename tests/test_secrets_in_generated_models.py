"""A package `oeus-kraken codegen` makes from a user's own operations keeps the secrets its models
hold out of repr() and str(), however the operation names the fields that carry them.

(Our own package's models: test_hardening.py and test_models_from_the_api.py.)
"""

from __future__ import annotations

from pathlib import Path

from codegen_helpers import MAKE, codegen_here, imported

SCHEMA = """\
type Query { me: Me }
type Mutation { obtainKrakenToken(input: String): Issued }
type Issued { token: String! refreshToken: String refreshExpiresIn: Int }
type Me { id: ID! liveSecretKey: String }
"""

# GraphQL aliases give the secret fields names no rule knows as secret (`jwt`, `renew`, `k`).
OPERATIONS = """\
mutation logIn($i: String) {
  obtainKrakenToken(input: $i) { jwt: token renew: refreshToken refreshExpiresIn }
}
query me { me { id k: liveSecretKey } }
fragment Bearer on Issued { bearer: token }
mutation again($i: String) { obtainKrakenToken(input: $i) { ...Bearer } }
"""


def test_a_secret_field_renamed_by_an_alias_stays_out_of_repr_and_str(tmp_path: Path) -> None:
    # Before: the alias was the Python name, and repr showed `jwt='<the token>'`.
    (tmp_path / "schema.graphql").write_text(SCHEMA, encoding="utf-8")
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "ops.graphql").write_text(OPERATIONS, encoding="utf-8")
    run = codegen_here(*MAKE, "--schema", "schema.graphql", cwd=tmp_path)
    assert run.code == 0, run.err
    with imported(tmp_path / "src", "my_kraken") as my_kraken:
        issued = my_kraken.LogIn.model_validate(
            {"obtainKrakenToken": {"jwt": "tok-1", "renew": "rt-2", "refreshExpiresIn": 7}}
        )
        me = my_kraken.Me.model_validate({"me": {"id": "5", "k": "sk-3"}})
        again = my_kraken.Again.model_validate({"obtainKrakenToken": {"bearer": "tok-4"}})
        shown = [repr(issued), str(issued), repr(me), str(me.me), repr(again.obtain_kraken_token)]
        secrets = ("tok-1", "rt-2", "sk-3", "tok-4")
        assert not any(secret in text for text in shown for secret in secrets)
        assert "refresh_expires_in=7" in repr(issued.obtain_kraken_token)  # the rest is shown
        assert "id='5'" in repr(me.me)
        # The values are there to read, as for a field by its own name.
        assert (issued.obtain_kraken_token.jwt, me.me.k) == ("tok-1", "sk-3")
        assert issued.model_dump(by_alias=True)["obtainKrakenToken"]["renew"] == "rt-2"
