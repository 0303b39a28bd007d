"""The model registry: versions, the champion of each kind, promotion, rollback and their audit log.

Every trained model is a version (`forecaster-v3`) with its training window, features, metrics,
backtest, holdout evaluation, gate decision and a skops artifact with its sha256. The champion of
a kind is one pointer row; promote, rollback and reject change it (and the version statuses) and
write the audit row in ONE transaction, so a crash leaves either the old state or the new one.

Artifacts are written before their row (to a temporary name, renamed inside the transaction), so
a row never points at a missing file; a crash can at most leave an unreferenced file behind, which
the next registration of that version number replaces. A version's artifact is fully checked and
loaded before it may become champion: a tampered file is refused and the current champion serves on.

Writers are serialised: across processes by DuckDB's file lock (see core.store), inside one process
by a lock here (which registry reads take too, since DuckDB refuses a read-only open in a process
that has a write connection open), so "two promoters with the same expected champion" ends in one promotion and one
`PromotionConflictError`, never in two.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from core import config, store
from core.config import StorePath
from core.domain import MODEL_KINDS, end_of_day
from core.errors import JourneyOpsError
from core.registry.artifacts import load_artifact, save_artifact
from core.registry.gate import GateDecision

STATUSES: tuple[str, ...] = ("candidate", "pending_approval", "champion", "retired", "rejected")
CHAMPION_ACTIONS: tuple[str, ...] = ("promote", "rollback")

# Test hook: $JOURNEYOPS_PAUSE_AT names a point below where the process announces itself on stderr
# and sleeps, so a crash test can SIGKILL it at exactly the worst moment.
PAUSE_POINTS: tuple[str, ...] = (
    "register:after_artifact",
    "register:in_transaction",
    "promote:in_transaction",
    "promote:after_commit",
    "rollback:in_transaction",
)

_WRITE_LOCK = threading.RLock()
_STALE_STAGED_S = 3600.0


class RegistryError(JourneyOpsError):
    """A registry request cannot be carried out as asked."""


class UnknownVersionError(RegistryError):
    """No model version has that id."""


class PromotionConflictError(RegistryError):
    """The champion is not the one the caller expected: someone else changed it first."""

    exit_code = 3


class NoChampionError(RegistryError):
    """A kind has no champion yet."""


class NoPreviousChampionError(RegistryError):
    """A rollback has nowhere to go: the champion replaced no earlier version."""


class NoVersionLiveError(RegistryError):
    """No version of a kind was champion on the date asked for."""


@dataclass(frozen=True)
class ModelVersion:
    """One registered model version and its record."""

    version_id: str
    kind: str
    version_number: int
    status: str
    created_at: datetime
    status_changed_at: datetime
    training_window: Any
    feature_columns: list[str]
    metrics: dict[str, Any]
    backtest: Any
    evaluation: dict[str, Any] | None
    gate: dict[str, Any] | None
    artifact_path: str  # relative to config.models_dir(store)
    artifact_sha256: str
    is_champion: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (timestamps as ISO strings)."""
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        out["status_changed_at"] = self.status_changed_at.isoformat()
        return out


def serving_summary(version: ModelVersion) -> dict[str, Any]:
    """What a reader needs of a serving model: its holdout MAE (days) and both of its windows — the
    one its backtest was evaluated on (the fit the gate judged) and the one the served fit learned
    from — with the instant it was trained at."""
    backtest = version.backtest if isinstance(version.backtest, dict) else {}
    metrics = version.metrics if isinstance(version.metrics, dict) else {}
    return {
        "version": version.version_id,
        "holdout_mae_days": metrics.get("mae_days"),
        "trained_as_of": backtest.get("as_of"),
        "evaluated_window": backtest.get("evaluated_window") or version.training_window,
        "deployed_window": backtest.get("deployed_window") or version.training_window,
    }


# ---------------------------------------------------------------- reading


def list_versions(kind: str | None = None, store_path: StorePath = None) -> list[ModelVersion]:
    """Every registered version (of one kind, or all), oldest first within each kind."""
    if kind is not None:
        _check_kind(kind)
    return [_version_from_row(r) for r in _read("registry_versions", {"kind": kind}, store_path)]


def get_version(version_id: str, store_path: StorePath = None) -> ModelVersion:
    """One version by id; UnknownVersionError if there is none."""
    rows = _read("registry_version", {"version_id": version_id}, store_path)
    if not rows:
        raise UnknownVersionError(
            f"no model version {version_id!r} in {config.store_path(store_path)}; "
            "list them with `python -m core models`"
        )
    return _version_from_row(rows[0])


def get_champion(kind: str, store_path: StorePath = None) -> ModelVersion | None:
    """The champion version of a kind, or None before the first promotion."""
    _check_kind(kind)
    rows = _read("registry_champion", {"kind": kind}, store_path)
    return get_version(rows[0]["version_id"], store_path) if rows else None


def artifact_file(version: ModelVersion, store_path: StorePath = None) -> Path:
    """Where a version's artifact lives on disk."""
    return config.models_dir(config.store_path(store_path)) / version.artifact_path


def load_version(version_id: str, store_path: StorePath = None) -> tuple[ModelVersion, Any]:
    """A version and its model, loaded through the checksum and type allow-list."""
    version = get_version(version_id, store_path)
    path = artifact_file(version, store_path)
    if version.status == "rejected" and not path.exists():
        raise RegistryError(f"{version_id} was rejected and its artifact removed after the retention period; "
                            "its registry record stays for the audit")
    return version, load_artifact(path, version.artifact_sha256)


def prune_rejected_artifacts(
    older_than: datetime, store_path: str | os.PathLike[str] | None = None
) -> list[str]:
    """Remove the artifacts of rejected versions trained before `older_than` (their registry rows and
    audit stay). A version that was ever champion — a rollback target — is never touched. Returns
    the versions whose artifacts were removed."""
    ever_champion = {row["version_id"] for row in audit_log(store_path) if row.get("action") in CHAMPION_ACTIONS}
    removed = []
    for version in list_versions(None, store_path):
        known = (version.backtest or {}).get("as_of") if isinstance(version.backtest, dict) else None
        trained_at = pd.Timestamp(known) if known else pd.Timestamp(version.created_at)
        if version.status != "rejected" or version.version_id in ever_champion or trained_at >= older_than:
            continue
        path = artifact_file(version, store_path)
        if path.exists():
            path.unlink()
            removed.append(version.version_id)
    return removed


def load_champion(kind: str, store_path: StorePath = None) -> tuple[ModelVersion, Any]:
    """The champion of a kind and its model; NoChampionError before the first promotion."""
    champion = get_champion(kind, store_path)
    if champion is None:
        raise NoChampionError(
            f"there is no {kind} champion in {config.store_path(store_path)} yet; "
            "train one with `python -m core retrain`"
        )
    return champion, load_artifact(artifact_file(champion, store_path), champion.artifact_sha256)


def audit_log(store_path: StorePath = None, kind: str | None = None) -> list[dict[str, Any]]:
    """Every promote, rollback and reject, oldest first: who, when, why, metrics, previous champion, gate."""
    if kind is not None:
        _check_kind(kind)
    rows = _read("registry_audit", {"kind": kind}, store_path)
    for row in rows:
        row["acted_at"] = _to_datetime(row["acted_at"])
        row["metrics"] = _from_json(row["metrics"])
        row["gate"] = _from_json(row["gate"])
        row["previous_version_id"] = _none_if_na(row["previous_version_id"])
        row["audit_id"] = int(row["audit_id"])
    return rows


# ---------------------------------------------------------------- writing


def register_version(
    kind: str,
    model: Any,
    *,
    training_window: Any,
    feature_columns: Sequence[str],
    metrics: Mapping[str, Any],
    backtest: Any,
    evaluation: Mapping[str, Any] | None,
    store_path: StorePath = None,
) -> ModelVersion:
    """Save the model's artifact, then record it as the next `candidate` version of its kind."""
    _check_kind(kind)
    if evaluation is not None and evaluation.get("kind", kind) != kind:
        raise RegistryError(f"the evaluation is for {evaluation.get('kind')!r}, not {kind!r}")
    store_file = config.store_path(store_path)
    models_dir = config.models_dir(store_file)
    _remove_stale_staged(models_dir / kind)
    # Dump under a unique name first: the dump is the slow part and must stay outside the transaction.
    staged = models_dir / kind / f".staged-{uuid.uuid4().hex}.skops"
    sha256 = save_artifact(model, staged)
    _pause_point("register:after_artifact")
    try:
        with _write_transaction(store_file) as con:
            number = int(_rows(con, "registry_next_number", {"kind": kind})[0]["next_number"])
            version_id = f"{kind}-v{number}"
            relative = f"{kind}/{version_id}.skops"
            # A file already here has no row (numbers come from rows): a crash left it; replace it.
            os.replace(staged, models_dir / relative)
            con.execute(
                store.load_sql("registry_insert_version"),
                {
                    "version_id": version_id,
                    "kind": kind,
                    "version_number": number,
                    "status": "candidate",
                    "created_at": store.utcnow(),
                    "training_window": _to_json(training_window),
                    "feature_columns": _to_json(list(feature_columns)),
                    "metrics": _to_json(dict(metrics)),
                    "backtest": _to_json(backtest),
                    "evaluation": _to_json(dict(evaluation) if evaluation is not None else None),
                    "artifact_path": relative,
                    "artifact_sha256": sha256,
                },
            )
            _pause_point("register:in_transaction")
    finally:
        staged.unlink(missing_ok=True)
    return get_version(version_id, store_file)


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
        raise RegistryError(
            f"{version_id} failed the quality gate ({reasons}); promote it anyway only with --force"
        )
    # Load it fully before switching: a tampered or unloadable artifact never becomes champion.
    load_artifact(artifact_file(target, store_path), target.artifact_sha256)
    gate = gate_decision.to_dict() if gate_decision is not None else target.gate
    with _write_transaction(store_path) as con:
        row = _rows(con, "registry_version", {"version_id": version_id})[0]
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
                {"version_id": version_id, "status": target.status, "changed_at": store.utcnow(), "gate": _to_json(gate)},
            )
        _switch_champion(
            con, target, previous=current, action="promote", actor=actor,
            reason=reason + (" (forced past a failed gate)" if target.status == "rejected" else ""),
            gate=gate,
        )
    _pause_point("promote:after_commit")
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
    _check_kind(kind)
    _check_actor_reason(actor, reason)
    current = get_champion(kind, store_path)
    if current is None:
        raise NoChampionError(f"there is no {kind} champion to roll back from")
    target_id = _rollback_target(kind, current.version_id, to_date, store_path)
    target = get_version(target_id, store_path)
    load_artifact(artifact_file(target, store_path), target.artifact_sha256)
    with _write_transaction(store_path) as con:
        if _current_champion(con, kind) != current.version_id:
            raise PromotionConflictError(
                f"the {kind} champion changed while rolling back (it is now "
                f"{_current_champion(con, kind)}); check `python -m core models` and retry"
            )
        _switch_champion(
            con, target, previous=current.version_id, action="rollback", actor=actor, reason=reason, gate=None
        )
    return get_version(target_id, store_path)


def reject(
    version_id: str, *, actor: str, reason: str, store_path: StorePath = None
) -> ModelVersion:
    """A person declines a version awaiting approval (or a candidate); audited."""
    _check_actor_reason(actor, reason)
    target = get_version(version_id, store_path)
    if target.status not in ("pending_approval", "candidate"):
        raise RegistryError(f"{version_id} is {target.status}; only pending or candidate versions can be rejected")
    with _write_transaction(store_path) as con:
        at = store.utcnow()
        con.execute(store.load_sql("registry_set_status"), {"version_id": version_id, "status": "rejected", "changed_at": at})
        _insert_audit(con, at, target, "reject", _current_champion(con, target.kind), actor, reason, target.gate)
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
                version_id, actor=actor, reason="quality gate passed, auto-promotion on (gate reasons recorded)",
                expected_champion=expected_champion, store_path=store_path, gate_decision=decision,
            )
        except PromotionConflictError:
            # The comparison was against a champion that is no longer live: keep the verdict, promote nothing.
            _set_gate(version_id, "candidate", decision, store_path)
            raise
    return _set_gate(version_id, decision.action, decision, store_path)


def register_and_gate(
    kind: str,
    model: Any,
    *,
    training_window: Any,
    feature_columns: Sequence[str],
    metrics: Mapping[str, Any],
    backtest: Any,
    evaluation: Mapping[str, Any],
    decision: GateDecision,
    expected_champion: str | None,
    actor: str = "retrain",
    store_path: StorePath = None,
) -> ModelVersion:
    """Register a trained challenger, then act on its gate decision (what `retrain` does per model)."""
    version = register_version(
        kind, model, training_window=training_window, feature_columns=feature_columns,
        metrics=metrics, backtest=backtest, evaluation=evaluation, store_path=store_path,
    )
    return record_gate(
        version.version_id, decision, expected_champion=expected_champion, actor=actor, store_path=store_path
    )


# ---------------------------------------------------------------- internals


@contextmanager
def _write_transaction(store_path: StorePath) -> Iterator[duckdb.DuckDBPyConnection]:
    with _WRITE_LOCK:
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
        con.execute(store.load_sql("registry_set_status"), {"version_id": previous, "status": "retired", "changed_at": at})
    con.execute(
        store.load_sql("registry_set_status"), {"version_id": target.version_id, "status": "champion", "changed_at": at}
    )
    audit_id = int(_rows(con, "registry_next_audit_id", {})[0]["next_audit_id"])
    con.execute(
        store.load_sql("registry_set_champion"),
        {"kind": target.kind, "version_id": target.version_id, "changed_at": at, "audit_id": audit_id},
    )
    # The worst moment to die: pointer and statuses switched, audit row not yet written.
    _pause_point(f"{action}:in_transaction")
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
        audit_id = int(_rows(con, "registry_next_audit_id", {})[0]["next_audit_id"])
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
            "metrics": _to_json({**target.metrics, "holdout_business_cost": business_cost}),
            "gate": _to_json(gate),
        },
    )


def _set_gate(
    version_id: str, status: str, decision: GateDecision, store_path: StorePath
) -> ModelVersion:
    with _write_transaction(store_path) as con:
        con.execute(
            store.load_sql("registry_set_gate"),
            {"version_id": version_id, "status": status, "changed_at": store.utcnow(), "gate": _to_json(decision.to_dict())},
        )
    return get_version(version_id, store_path)


def _rollback_target(
    kind: str, current: str, to_date: date | None, store_path: StorePath
) -> str:
    if to_date is None:
        rows = _read("registry_promoted_from", {"version_id": current}, store_path)
        previous = _none_if_na(rows[0]["previous_version_id"]) if rows else None
        if previous is None:
            raise NoPreviousChampionError(
                f"{current} replaced no earlier {kind} champion, so there is nothing to roll back to; "
                "promote another version instead"
            )
        return str(previous)
    rows = _read("registry_live_at", {"kind": kind, "before": end_of_day(to_date)}, store_path)
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
    rows = _rows(con, "registry_champion", {"kind": kind})
    return str(rows[0]["version_id"]) if rows else None


def _rows(con: duckdb.DuckDBPyConnection, sql_name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    return con.execute(store.load_sql(sql_name), dict(params)).df().to_dict("records")


def _read(sql_name: str, params: Mapping[str, Any], store_path: StorePath) -> list[dict[str, Any]]:
    try:
        # Under the lock too: in one process, a read-only open while a write connection is open fails.
        with _WRITE_LOCK:
            return store.fetch_df(sql_name, params, store_path).to_dict("records")
    except duckdb.CatalogException:
        # A store created before the registry migration has no models yet; a write open adds the tables.
        return []


def _version_from_row(row: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        version_id=str(row["version_id"]),
        kind=str(row["kind"]),
        version_number=int(row["version_number"]),
        status=str(row["status"]),
        created_at=_to_datetime(row["created_at"]),
        status_changed_at=_to_datetime(row["status_changed_at"]),
        training_window=_from_json(row["training_window"]),
        feature_columns=_from_json(row["feature_columns"]) or [],
        metrics=_from_json(row["metrics"]) or {},
        backtest=_from_json(row["backtest"]),
        evaluation=_from_json(row["evaluation"]),
        gate=_from_json(row["gate"]),
        artifact_path=str(row["artifact_path"]),
        artifact_sha256=str(row["artifact_sha256"]),
        is_champion=bool(row["is_champion"]),
    )


def _remove_stale_staged(folder: Path) -> None:
    # A process killed while dumping leaves its staged file; an hour on, no live dump owns it.
    if not folder.is_dir():
        return
    cutoff = time.time() - _STALE_STAGED_S
    for path in folder.glob(".staged-*.skops"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass


def _check_kind(kind: str) -> None:
    if kind not in MODEL_KINDS:
        raise RegistryError(f"unknown model kind {kind!r}; use one of {', '.join(MODEL_KINDS)}")


def _check_actor_reason(actor: str, reason: str) -> None:
    if not actor or not actor.strip():
        raise RegistryError("say who is acting (--actor)")
    if not reason or not reason.strip():
        raise RegistryError("give a reason (--reason): the audit log records why the champion changed")


def _pause_point(point: str) -> None:
    if os.environ.get("JOURNEYOPS_PAUSE_AT") != point:
        return
    print(f"journeyops: paused at {point}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("JOURNEYOPS_PAUSE_S", "60")))


def _clean(value: Any) -> Any:
    # JSON has no NaN/inf, and numpy scalars, dates and paths need plain forms.
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return _clean(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(_clean(value), allow_nan=False, default=str)


def _from_json(text: Any) -> Any:
    return None if text is None or (isinstance(text, float) and math.isnan(text)) else json.loads(text)


def _none_if_na(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _to_datetime(value: Any) -> datetime:
    return pd.Timestamp(value).to_pydatetime()
