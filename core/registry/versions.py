"""The model registry read side: versions, the champion of each kind and the audit log.

Every trained model is a version (`forecaster-v3`) with its training window, features, metrics,
backtest, holdout evaluation, gate decision and a skops artifact with its sha256. The champion of
a kind is one pointer row. Changing them (register, promote, rollback, reject) lives in
`registry.promotion`, which shares the record forms and the lock kept here.

Registry reads take the in-process write lock too, since DuckDB refuses a read-only open in a
process that has a write connection open.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from core import config, store
from core.config import StorePath
from core.domain import MODEL_KINDS
from core.errors import JourneyOpsError
from core.registry.artifacts import load_artifact, read_checked_artifact

STATUSES: tuple[str, ...] = ("candidate", "pending_approval", "champion", "retired", "rejected")
CHAMPION_ACTIONS: tuple[str, ...] = ("promote", "rollback")


# Serialises registry writers (and readers, see above) inside one process.
WRITE_LOCK = threading.RLock()


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
        check_kind(kind)
    return [_version_from_row(r) for r in read_rows("registry_versions", {"kind": kind}, store_path)]


def get_version(version_id: str, store_path: StorePath = None) -> ModelVersion:
    """One version by id; UnknownVersionError if there is none."""
    rows = read_rows("registry_version", {"version_id": version_id}, store_path)
    if not rows:
        raise UnknownVersionError(
            f"no model version {version_id!r} in {config.store_path(store_path)}; "
            "list them with `python -m core models`"
        )
    return _version_from_row(rows[0])


def get_champion(kind: str, store_path: StorePath = None) -> ModelVersion | None:
    """The champion version of a kind, or None before the first promotion."""
    check_kind(kind)
    rows = read_rows("registry_champion", {"kind": kind}, store_path)
    return get_version(rows[0]["version_id"], store_path) if rows else None


def artifact_file(version: ModelVersion, store_path: StorePath = None) -> Path:
    """Where a version's artifact lives on disk."""
    return config.models_dir(config.store_path(store_path)) / version.artifact_path


def _existing_artifact(version: ModelVersion, store_path: StorePath) -> Path:
    path = artifact_file(version, store_path)
    if version.status == "rejected" and not path.exists():
        raise RegistryError(
            f"{version.version_id} was rejected and its artifact removed after the retention period; "
            "its registry record stays for the audit"
        )
    return path


def load_version(version_id: str, store_path: StorePath = None) -> tuple[ModelVersion, Any]:
    """A version and its model, loaded through the checksum and type allow-list."""
    version = get_version(version_id, store_path)
    return version, load_artifact(_existing_artifact(version, store_path), version.artifact_sha256)


def version_bytes(version_id: str, store_path: StorePath = None) -> tuple[bytes, str]:
    """A version's artifact bytes, checked as `load_version` checks them, and its registered sha256:
    what a Spark worker needs to load the model itself (`artifacts.loads_artifact`)."""
    version = get_version(version_id, store_path)
    path = _existing_artifact(version, store_path)
    return read_checked_artifact(path, version.artifact_sha256), version.artifact_sha256


def prune_rejected_artifacts(older_than: datetime, store_path: StorePath = None) -> list[str]:
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
        check_kind(kind)
    rows = read_rows("registry_audit", {"kind": kind}, store_path)
    for row in rows:
        row["acted_at"] = _to_datetime(row["acted_at"])
        row["metrics"] = _from_json(row["metrics"])
        row["gate"] = _from_json(row["gate"])
        row["previous_version_id"] = none_if_na(row["previous_version_id"])
        row["audit_id"] = int(row["audit_id"])
    return rows


# ---------------------------------------------------------------- records


def query_rows(con: duckdb.DuckDBPyConnection, sql_name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of a stored query on an open connection, as dicts."""
    return con.execute(store.load_sql(sql_name), dict(params)).df().to_dict("records")


def read_rows(sql_name: str, params: Mapping[str, Any], store_path: StorePath) -> list[dict[str, Any]]:
    """The rows of a stored registry query, read under the lock ([] before the registry tables exist)."""
    try:
        # Under the lock too: in one process, a read-only open while a write connection is open fails.
        with WRITE_LOCK:
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


def check_kind(kind: str) -> None:
    """RegistryError unless `kind` is one of the model kinds."""
    if kind not in MODEL_KINDS:
        raise RegistryError(f"unknown model kind {kind!r}; use one of {', '.join(MODEL_KINDS)}")


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


def to_json(value: Any) -> str | None:
    """A record value as JSON text (None stays None; NaN and inf become null)."""
    return None if value is None else json.dumps(_clean(value), allow_nan=False, default=str)


def _from_json(text: Any) -> Any:
    return None if text is None or (isinstance(text, float) and math.isnan(text)) else json.loads(text)


def none_if_na(value: Any) -> Any:
    """None for a missing value (None or NaN), else the value."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _to_datetime(value: Any) -> datetime:
    return pd.Timestamp(value).to_pydatetime()
