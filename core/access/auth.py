"""API tokens: created and revoked from the CLI, checked by the API.

A token is shown once, when it is created; the store keeps only its sha256, its role and when it was
created or revoked. Checking compares the presented token's hash with every active hash in constant
time (`hmac.compare_digest`, no early exit), so timing says nothing about how close a guess was.

The API must see a create or a revoke on its very next request, even while a job holds the store's
write lock (DuckDB lets no other process open the file then, not even to read). So every create and
revoke also writes the active tokens' records to a small snapshot file beside the store
(`<store>.tokens.json`, replaced atomically, before the transaction commits). The API reads that
file, never the store, while it is there and belongs to the store file it sits beside (a restore
swaps the store file in, and the snapshot of the replaced one no longer counts); otherwise it reads
the store and, when the store cannot be read, refuses rather than guesses. A failed commit leaves
the snapshot ahead of the store: a revoked token refused early, or a new token (never shown to
anyone, since creating it failed) that nobody can present.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from core import config, store
from core.config import StorePath
from core.errors import ConfigError, JourneyOpsError

# Each role may do what the roles before it may: a scorer can read, an admin can score.
ROLES: tuple[str, ...] = ("reader", "scorer", "admin")
TOKEN_PREFIX = "jo_"
MAX_NAME_LENGTH = 200
SNAPSHOT_SUFFIX = ".tokens.json"
SNAPSHOT_FORMAT = 1


class TokenError(JourneyOpsError):
    """A token request cannot be carried out as asked."""


@dataclass(frozen=True)
class TokenRecord:
    """A stored token: its id, holder's name, role and dates (never the token itself)."""

    token_id: str
    name: str | None
    role: str
    token_sha256: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether the token still opens the API."""
        return self.revoked_at is None

    def to_dict(self) -> dict[str, object]:
        """A JSON-able form without the hash."""
        return {
            "token_id": self.token_id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def hash_token(token: str) -> str:
    """The sha256 (hex) a token is stored as."""
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).hexdigest()


def role_allows(role: str, needed: str) -> bool:
    """Whether a token of `role` may do what needs `needed`."""
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def create_token(role: str, name: str | None = None, store_path: StorePath = None) -> tuple[TokenRecord, str]:
    """A new token of a role: (its record, the token itself — shown to the caller once, never stored)."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise ConfigError(f"the token name is {len(name)} characters long; keep it under {MAX_NAME_LENGTH}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = "tok_" + secrets.token_hex(4)
    record = TokenRecord(token_id, name, role, hash_token(token), store.utcnow(), None)
    with store.transaction(store_path) as con:
        con.execute(
            store.load_sql("api_token_insert"),
            {
                "token_id": record.token_id,
                "name": record.name,
                "role": record.role,
                "token_sha256": record.token_sha256,
                "created_at": record.created_at,
            },
        )
        _write_snapshot(con, store_path)
    return record, token


def revoke_token(token_id: str, store_path: StorePath = None) -> TokenRecord:
    """End a token: from now on it gets 401. Refuses an unknown or already revoked id."""
    with store.transaction(store_path) as con:
        known = {t.token_id: t for t in _records(con, only_active=False)}
        if token_id not in known:
            raise TokenError(f"no token {token_id!r}; list them with `python -m core token list`")
        if not known[token_id].active:
            raise TokenError(f"token {token_id} was already revoked at {known[token_id].revoked_at}")
        con.execute(store.load_sql("api_token_revoke"), {"token_id": token_id, "revoked_at": store.utcnow()})
        revoked = {t.token_id: t for t in _records(con, only_active=False)}[token_id]
        _write_snapshot(con, store_path)
    return revoked


def list_tokens(store_path: StorePath = None, *, only_active: bool = False) -> list[TokenRecord]:
    """Every token (or only the active ones), oldest first."""
    try:
        with store.connect(store_path, read_only=True) as con:
            return _records(con, only_active=only_active)
    except duckdb.CatalogException:
        # A store older than the tokens migration has no tokens; a write open adds the table.
        return []


def snapshot_file(store_path: StorePath = None) -> Path:
    """Where the active tokens' snapshot of a store lives: beside it, `<store>.tokens.json`."""
    path = config.store_path(store_path)
    return path.with_name(path.name + SNAPSHOT_SUFFIX)


def _store_inode(store_path: StorePath) -> int | None:
    try:
        return config.store_path(store_path).stat().st_ino
    except OSError:
        return None


def _write_snapshot(con: duckdb.DuckDBPyConnection, store_path: StorePath) -> None:
    """Replace the snapshot with the active tokens as this (still open) transaction sees them."""
    active = _records(con, only_active=True)
    document = {
        "format": SNAPSHOT_FORMAT,
        "store_inode": _store_inode(store_path),
        "tokens": [{**t.to_dict(), "token_sha256": t.token_sha256} for t in active],
    }
    target = snapshot_file(store_path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(document, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)  # hashes only, but nobody else needs to read them
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def tokens_version(store_path: StorePath = None) -> tuple[object, ...]:
    """What changes whenever the active tokens may have: the snapshot file's identity and the store
    file's (a restore swaps it). Two `stat` calls, cheap enough for every request."""
    try:
        stat = snapshot_file(store_path).stat()
        snapshot: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except OSError:
        snapshot = None
    return (snapshot, _store_inode(store_path))


def read_snapshot(store_path: StorePath = None) -> list[TokenRecord] | None:
    """The active tokens from the snapshot file; None when there is none, it cannot be read, or it
    was written for another store file (read the store instead)."""
    try:
        document = json.loads(snapshot_file(store_path).read_text())
        if document.get("format") != SNAPSHOT_FORMAT or document.get("store_inode") != _store_inode(store_path):
            return None
        return [
            TokenRecord(
                token_id=str(t["token_id"]),
                name=None if t["name"] is None else str(t["name"]),
                role=str(t["role"]),
                token_sha256=str(t["token_sha256"]),
                created_at=datetime.fromisoformat(t["created_at"]),
                revoked_at=None,
            )
            for t in document["tokens"]
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def active_tokens(store_path: StorePath = None) -> list[TokenRecord]:
    """The active tokens now: from the snapshot when it belongs to this store, else from the store
    (StoreBusyError or StoreMissingError when it cannot be read: the caller refuses, never guesses)."""
    from_snapshot = read_snapshot(store_path)
    if from_snapshot is not None:
        return from_snapshot
    return list_tokens(store_path, only_active=True)


def match_token(token: str, active: Iterable[TokenRecord]) -> TokenRecord | None:
    """The active token record this token is, compared in constant time against every one."""
    presented = hash_token(token)
    found = None
    for record in active:
        # No early exit: every comparison runs whatever matched before.
        if hmac.compare_digest(presented, record.token_sha256) and record.active:
            found = record
    return found


def verify_token(token: str, store_path: StorePath = None) -> TokenRecord | None:
    """The active record of a presented token, or None."""
    return match_token(token, list_tokens(store_path, only_active=True))


def _records(con: duckdb.DuckDBPyConnection, *, only_active: bool) -> list[TokenRecord]:
    rows = con.execute(store.load_sql("api_tokens"), {"only_active": only_active}).df()
    return [
        TokenRecord(
            token_id=str(row.token_id),
            name=None if pd.isna(row.name) else str(row.name),
            role=str(row.role),
            token_sha256=str(row.token_sha256),
            created_at=pd.Timestamp(row.created_at).to_pydatetime(),
            revoked_at=None if pd.isna(row.revoked_at) else pd.Timestamp(row.revoked_at).to_pydatetime(),
        )
        for row in rows.itertuples(index=False)
    ]
