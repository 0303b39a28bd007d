"""Registering a trained model: its artifact saved first (under a temporary name, renamed inside the transaction, so a
row never points at a missing file), then its row as the next candidate version of its kind; and registering a
challenger and acting on its gate decision in one call (what `retrain` does per model).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core import config, logs, store
from core.config import StorePath
from core.registry.artifacts import save_artifact
from core.registry.gate import GateDecision
from core.registry.promotion import record_gate, write_transaction
from core.registry.versions import (
    ModelVersion,
    RegistryError,
    check_kind,
    get_version,
    query_rows,
    to_json,
)

_STALE_STAGED_S = 3600.0


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
    check_kind(kind)
    if evaluation is not None and evaluation.get("kind", kind) != kind:
        raise RegistryError(f"the evaluation is for {evaluation.get('kind')!r}, not {kind!r}")
    store_file = config.store_path(store_path)
    models_dir = config.models_dir(store_file)
    _remove_stale_staged(models_dir / kind)
    # Dump under a unique name first: the dump is the slow part and must stay outside the transaction.
    staged = models_dir / kind / f".staged-{uuid.uuid4().hex}.skops"
    sha256 = save_artifact(model, staged)
    logs.pause_point("register:after_artifact")
    try:
        with write_transaction(store_file) as con:
            number = int(query_rows(con, "registry_next_number", {"kind": kind})[0]["next_number"])
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
                    "training_window": to_json(training_window),
                    "feature_columns": to_json(list(feature_columns)),
                    "metrics": to_json(dict(metrics)),
                    "backtest": to_json(backtest),
                    "evaluation": to_json(dict(evaluation) if evaluation is not None else None),
                    "artifact_path": relative,
                    "artifact_sha256": sha256,
                },
            )
            logs.pause_point("register:in_transaction")
    finally:
        staged.unlink(missing_ok=True)
    return get_version(version_id, store_file)


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
        kind,
        model,
        training_window=training_window,
        feature_columns=feature_columns,
        metrics=metrics,
        backtest=backtest,
        evaluation=evaluation,
        store_path=store_path,
    )
    return record_gate(
        version.version_id,
        decision,
        expected_champion=expected_champion,
        actor=actor,
        store_path=store_path,
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
