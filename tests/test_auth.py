"""core.access.auth and `python -m core token`: a token is shown once, stored as a hash, checked in constant time."""

from __future__ import annotations

import json

import pytest

from core import store
from core.access import auth
from core.cli import main
from core.errors import ConfigError


def test_create_stores_only_the_hash_and_verify_finds_the_token(store_file):
    record, token = auth.create_token("scorer", "crm", store_file)
    assert token.startswith("jo_") and len(token) > 40
    assert record.role == "scorer" and record.name == "crm" and record.active
    with store.connect(store_file, read_only=True) as con:
        stored = con.execute("select * from api_tokens").df()
    assert stored["token_sha256"].tolist() == [auth.hash_token(token)]
    assert token not in stored.to_string()
    assert auth.verify_token(token, store_file).token_id == record.token_id
    assert auth.verify_token(token + "x", store_file) is None
    assert auth.verify_token("", store_file) is None


def test_revoke_ends_a_token_once(store_file):
    record, token = auth.create_token("reader", None, store_file)
    other, other_token = auth.create_token("admin", "ops", store_file)
    revoked = auth.revoke_token(record.token_id, store_file)
    assert revoked.revoked_at is not None and not revoked.active
    assert auth.verify_token(token, store_file) is None
    assert auth.verify_token(other_token, store_file).token_id == other.token_id
    with pytest.raises(auth.TokenError, match="already revoked"):
        auth.revoke_token(record.token_id, store_file)
    with pytest.raises(auth.TokenError, match="no token 'tok_nope'"):
        auth.revoke_token("tok_nope", store_file)
    assert [t.token_id for t in auth.list_tokens(store_file, only_active=True)] == [other.token_id]
    assert len(auth.list_tokens(store_file)) == 2


def test_unknown_role_and_long_name_are_refused(store_file):
    with pytest.raises(ConfigError, match="unknown role 'root'; use one of reader, scorer, admin"):
        auth.create_token("root", None, store_file)
    with pytest.raises(ConfigError, match="keep it under 200"):
        auth.create_token("reader", "x" * 201, store_file)


def test_roles_are_ordered():
    assert auth.role_allows("admin", "scorer") and auth.role_allows("scorer", "reader")
    assert auth.role_allows("reader", "reader")
    assert not auth.role_allows("reader", "scorer") and not auth.role_allows("scorer", "admin")
    assert not auth.role_allows("root", "reader")


def test_match_token_compares_every_record():
    calls = []

    class Record:
        def __init__(self, token_id, sha):
            self.token_id, self.token_sha256, self.active = token_id, sha, True

    records = [Record("a", auth.hash_token("t1")), Record("b", auth.hash_token("t2"))]
    original = auth.hmac.compare_digest
    auth.hmac.compare_digest = lambda x, y: calls.append(y) or original(x, y)
    try:
        assert auth.match_token("t1", records).token_id == "a"
    finally:
        auth.hmac.compare_digest = original
    assert len(calls) == 2  # no early exit after the match


def test_a_store_without_the_tokens_table_has_no_tokens(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    duckdb.connect(str(path)).close()
    assert auth.list_tokens(path) == []


def test_cli_create_list_revoke(store_file, capsys):
    assert main(["init", "--store", str(store_file)]) == 0  # a token goes into an existing store
    capsys.readouterr()
    assert main(["token", "create", "--role", "reader", "--name", "dashboard", "--store", str(store_file)]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert "shown only now" in out.err and token.startswith("jo_")
    assert auth.verify_token(token, store_file).role == "reader"
    assert main(["token", "list", "--json", "--store", str(store_file)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["role"], t["name"], t["revoked_at"]) for t in listed] == [("reader", "dashboard", None)]
    assert "token_sha256" not in listed[0]
    token_id = listed[0]["token_id"]
    assert main(["token", "revoke", token_id, "--store", str(store_file)]) == 0
    assert f"token {token_id} (reader) revoked" in capsys.readouterr().out
    assert main(["token", "revoke", token_id, "--store", str(store_file)]) == 2
    assert "already revoked" in capsys.readouterr().err
    assert main(["token", "create", "--role", "scorer", "--json", "--store", str(store_file)]) == 0
    created = json.loads(capsys.readouterr().out)
    assert auth.verify_token(created["token"], store_file).token_id == created["token_id"]
