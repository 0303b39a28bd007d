"""Changing the champion: act on a gate decision, promote, roll back and reject (registering a
version is `registry.registration`).

Each change writes the champion pointer, the version statuses and the audit row in ONE transaction,
so a crash leaves either the old state or the new one. Artifacts are written before their row (to a
temporary name, renamed inside the transaction), so a row never points at a missing file; a crash
can at most leave an unreferenced file behind, which the next registration of that version number
replaces. A version's artifact is fully checked and loaded before it may become champion: a
tampered file is refused and the current champion serves on.

Writers are serialised: across processes by DuckDB's file lock (see core.store), inside one process
by `versions.WRITE_LOCK`, so "two promoters with the same expected champion" ends in one promotion
and one `PromotionConflictError`, never in two.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import duckdb

from core import logs, store
from core.config import StorePath
from core.domain import end_of_day
from core.registry.artifacts import load_artifact
from core.registry.gate import GateDecision
from core.registry.versions import (
    WRITE_LOCK,
    ModelVersion,
    NoChampionError,
    NoPreviousChampionError,
    NoVersionLiveError,
    PromotionConflictError,
    RegistryError,
    artifact_file,
    check_kind,
    get_champion,
    get_version,
    none_if_na,
    query_rows,
    read_rows,
    to_json,
)

# Test hook: $JOURNEYOPS_PAUSE_AT names a point below where the process announces itself on stderr
# and sleeps, so a crash test can SIGKILL it at exactly the worst moment.
PAUSE_POINTS: tuple[str, ...] = (
    "register:after_artifact",
    "register:in_transaction",
    "promote:in_transaction",
    "promote:after_commit",
    "rollback:in_transaction",
)


def promote(
    version_id: str,
    *,
    actor: str,
    reason: str,
    expected_champion: str | None,
    store_path: StorePath = None,
    gate_decision: GateDecision | None = None,
    force: bool = False,
) -> ModelVersion:
    """Make a version champion, atomically and audited, if the champion is still `expected_champion`."""
    _check_actor_reason(actor, reason)
    target = get_version(version_id, store_path)
    if target.status == "rejected" and not force:
        reasons = "; ".join((target.gate or {}).get("reasons", [])) or "no reasons recorded"
        raise RegistryError(f"{version_id} failed the quality gate ({reasons}); promote it anyway only with --force")
    # Load it fully before switching: a tampered or unloadable artifact never becomes champion.
    load_artifact(artifact_file(target, store_path), target.artifact_sha256)
    gate = gate_decision.to_dict() if gate_decision is not None else target.gate
    with write_transaction(store_path) as con:
        row = query_rows(con, "registry_version", {"version_id": version_id})[0]
        if row["artifact_sha256"] != target.artifact_sha256:
            raise PromotionConflictError(f"{version_id} changed while it was being promoted; try again")
        current = _current_champion(con, target.kind)
        if current != expected_champion:
            raise PromotionConflictError(
                f"the {target.kind} champion is now {current or 'none'}, not {expected_champion or 'none'} "
                f"as expected: someone else changed it first; check `python -m core models` and retry"
            )
        if current == version_id:
            raise RegistryError(f"{version_id} is already the {target.kind} champion; nothing to do")
        if gate_decision is not None:
            con.execute(
                store.load_sql("registry_set_gate"),
                {
                    "version_id": version_id,
                    "status": target.status,
                    "changed_at": store.utcnow(),
                    "gate": to_json(gate),
                },
            )
        _switch_champion(
            con,
            target,
            previous=current,
            action="promote",
            actor=actor,
            reason=reason + (" (forced past a failed gate)" if target.status == "rejected" else ""),
            gate=gate,
        )
    logs.pause_point("promote:after_commit")
    return get_version(version_id, store_path)


def rollback(
    kind: str,
    *,
    actor: str,
    reason: str,
    to_date: date | None = None,
    store_path: StorePath = None,
) -> ModelVersion:
    """Put back the champion the current one replaced, or the version that was live at the end of `to_date`."""
    check_kind(kind)
    _check_actor_reason(actor, reason)
    current = get_champion(kind, store_path)
    if current is None:
        raise NoChampionError(f"there is no {kind} champion to roll back from")
    target_id = _rollback_target(kind, current.version_id, to_date, store_path)
    target = get_version(target_id, store_path)
    load_artifact(artifact_file(target, store_path), target.artifact_sha256)
    with write_transaction(store_path) as con:
        if _current_champion(con, kind) != current.version_id:
            raise PromotionConflictError(
                f"the {kind} champion changed while rolling back (it is now "
                f"{_current_champion(con, kind)}); check `python -m core models` and retry"
            )
        _switch_champion(
            con,
            target,
            previous=current.version_id,
            action="rollback",
            actor=actor,
            reason=reason,
            gate=None,
        )
    return get_version(target_id, store_path)


def reject(version_id: str, *, actor: str, reason: str, store_path: StorePath = None) -> ModelVersion:
    """A person declines a version awaiting approval (or a candidate); audited."""
    _check_actor_reason(actor, reason)
    target = get_version(version_id, store_path)
    if target.status not in ("pending_approval", "candidate"):
        raise RegistryError(f"{version_id} is {target.status}; only pending or candidate versions can be rejected")
    with write_transaction(store_path) as con:
        at = store.utcnow()
        con.execute(
            store.load_sql("registry_set_status"),
            {"version_id": version_id, "status": "rejected", "changed_at": at},
        )
        _insert_audit(
            con,
            at,
            target,
            "reject",
            _current_champion(con, target.kind),
            actor,
            reason,
            target.gate,
        )
    return get_version(version_id, store_path)


def record_gate(
    version_id: str,
    decision: GateDecision,
    *,
    expected_champion: str | None,
    actor: str = "gate",
    store_path: StorePath = None,
) -> ModelVersion:
    """Act on a gate decision: promote (passed, auto-promotion on), await approval (passed) or reject (failed)."""
    if decision.action == "promote":
        try:
            return promote(
                version_id,
                actor=actor,
                reason="quality gate passed, auto-promotion on (gate reasons recorded)",
                expected_champion=expected_champion,
                store_path=store_path,
                gate_decision=decision,
            )
        except PromotionConflictError:
            # The comparison was against a champion that is no longer live: keep the verdict, promote nothing.
            _set_gate(version_id, "candidate", decision, store_path)
            raise
    return _set_gate(version_id, decision.action, decision, store_path)


@contextmanager
def write_transaction(store_path: StorePath) -> Iterator[duckdb.DuckDBPyConnection]:
    """A registry write transaction under the in-process lock; PromotionConflictError when another
    writer in this process committed to the same rows first."""
    with WRITE_LOCK:
        try:
            with store.transaction(store_path) as con:
                yield con
        except duckdb.TransactionException as exc:
            # Another writer in this process (outside the registry) touched the same rows first.
            raise PromotionConflictError(
                f"another change to the registry committed first ({exc}); check `python -m core models` and retry"
            ) from exc


def _switch_champion(
    con: duckdb.DuckDBPyConnection,
    target: ModelVersion,
    *,
    previous: str | None,
    action: str,
    actor: str,
    reason: str,
    gate: dict[str, Any] | None,
) -> None:
    at = store.utcnow()
    if previous is not None:
        con.execute(
            store.load_sql("registry_set_status"),
            {"version_id": previous, "status": "retired", "changed_at": at},
        )
    con.execute(
        store.load_sql("registry_set_status"),
        {"version_id": target.version_id, "status": "champion", "changed_at": at},
    )
    audit_id = int(query_rows(con, "registry_next_audit_id", {})[0]["next_audit_id"])
    con.execute(
        store.load_sql("registry_set_champion"),
        {
            "kind": target.kind,
            "version_id": target.version_id,
            "changed_at": at,
            "audit_id": audit_id,
        },
    )
    # The worst moment to die: pointer and statuses switched, audit row not yet written.
    logs.pause_point(f"{action}:in_transaction")
    _insert_audit(con, at, target, action, previous, actor, reason, gate, audit_id=audit_id)


def _insert_audit(
    con: duckdb.DuckDBPyConnection,
    at: datetime,
    target: ModelVersion,
    action: str,
    previous: str | None,
    actor: str,
    reason: str,
    gate: dict[str, Any] | None,
    audit_id: int | None = None,
) -> None:
    if audit_id is None:
        audit_id = int(query_rows(con, "registry_next_audit_id", {})[0]["next_audit_id"])
    business_cost = (target.evaluation or {}).get("business_cost")
    con.execute(
        store.load_sql("registry_insert_audit"),
        {
            "audit_id": audit_id,
            "changed_at": at,
            "kind": target.kind,
            "action": action,
            "version_id": target.version_id,
            "previous_version_id": previous,
            "actor": actor,
            "reason": reason,
            "metrics": to_json({**target.metrics, "holdout_business_cost": business_cost}),
            "gate": to_json(gate),
        },
    )


def _set_gate(version_id: str, status: str, decision: GateDecision, store_path: StorePath) -> ModelVersion:
    with write_transaction(store_path) as con:
        con.execute(
            store.load_sql("registry_set_gate"),
            {
                "version_id": version_id,
                "status": status,
                "changed_at": store.utcnow(),
                "gate": to_json(decision.to_dict()),
            },
        )
    return get_version(version_id, store_path)


def _rollback_target(kind: str, current: str, to_date: date | None, store_path: StorePath) -> str:
    if to_date is None:
        rows = read_rows("registry_promoted_from", {"version_id": current}, store_path)
        previous = none_if_na(rows[0]["previous_version_id"]) if rows else None
        if previous is None:
            raise NoPreviousChampionError(
                f"{current} replaced no earlier {kind} champion, so there is nothing to roll back to; "
                "promote another version instead"
            )
        return str(previous)
    rows = read_rows("registry_live_at", {"kind": kind, "before": end_of_day(to_date)}, store_path)
    if not rows:
        raise NoVersionLiveError(
            f"no {kind} version was champion on {to_date.isoformat()} (UTC); "
            "see `python -m core model-audit` for when champions changed"
        )
    target = str(rows[0]["version_id"])
    if target == current:
        raise RegistryError(f"{target} was the {kind} champion on {to_date.isoformat()} and still is; nothing to do")
    return target


def _current_champion(con: duckdb.DuckDBPyConnection, kind: str) -> str | None:
    rows = query_rows(con, "registry_champion", {"kind": kind})
    return str(rows[0]["version_id"]) if rows else None


def _check_actor_reason(actor: str, reason: str) -> None:
    if not actor or not actor.strip():
        raise RegistryError("say who is acting (--actor)")
    if not reason or not reason.strip():
        raise RegistryError("give a reason (--reason): the audit log records why the champion changed")
