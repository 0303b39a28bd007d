"""The domain side of the serving API: the champions, and online scoring (stored forecasts and the
day's at-risk list are read by `scoring.forecasts`).

Online scoring runs the champion's own feature SQL (core/sql/features_*.sql) on the store as it was at
the as-of instant, with the posted journey in place of whatever the store holds for that order: the
inter-case load (work in progress per stage, warehouse, carrier) then comes from the same events the
batch sees, so a journey posted exactly as stored gets the batch's answer.

The champions are cached by their version ids; the registry's champion pointer is re-read at most
once per `check_every_s`, so a promotion or a rollback is served from the next request on, without
a restart.
"""

from __future__ import annotations

import io
import json
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import duckdb
import pandas as pd
from threadpoolctl import ThreadpoolController

from core import config, domain, features, store
from core.config import StorePath
from core.domain import MODEL_KINDS
from core.errors import JourneyOpsError
from core.ingest import contract
from core.registry import versions as registry
from core.scoring import batch, checked_files

ORDER_FIELDS: tuple[str, ...] = (
    "placed_at",
    *domain.CATEGORICAL_ATTRIBUTES,
    *domain.NUMERIC_ATTRIBUTES,
    "promised_at",
)


class NotScorableError(JourneyOpsError):
    """A posted journey cannot be scored as it stands (ended, or nothing visible at the as-of instant)."""


class JourneyContractError(NotScorableError):
    """A posted journey breaks the data contract: ingestion would quarantine these rows.

    `errors` holds (field, why) pairs, the field as the request names it (`body.events.2.stage`)."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__(
            "the journey breaks the data contract (ingestion would quarantine it): "
            + "; ".join(f"{name}: {why}" for name, why in self.errors)
        )


class ServingUnavailableError(JourneyOpsError):
    """The store lacks what serving needs (tables, a champion): try again after the daily job."""


@dataclass(frozen=True)
class Champions:
    """The champion forecaster and stuck classifier, loaded, with their version ids."""

    forecaster_version: str
    forecaster: Any
    classifier_version: str
    classifier: Any
    feature_columns: tuple[str, ...] = ()

    @property
    def versions(self) -> dict[str, str]:
        """{kind: version id} of both champions."""
        return {"forecaster": self.forecaster_version, "stuck_classifier": self.classifier_version}


@dataclass(frozen=True)
class JourneyEvent:
    """One posted event: the stage (activity) and when it happened, in UTC."""

    stage: str
    event_ts: datetime
    event_id: str | None = None
    attrs: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Journey:
    """A journey so far: the order's attributes and its events."""

    order_id: str
    events: Sequence[JourneyEvent]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    attrs: Mapping[str, Any] | None = None


def _utc_naive(value: datetime) -> datetime:
    """The store's form of an instant: UTC without tzinfo (naive inputs are taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


# ---------------------------------------------------------------- champions


class ChampionCache:
    """The champions of a store, reloaded when the registry's pointer moves (checked at most every
    `check_every_s` seconds, so a request costs one cheap read at most)."""

    def __init__(
        self, store_path: StorePath = None, check_every_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store_path = store_path
        self.check_every_s = check_every_s
        self.clock = clock
        self._lock = threading.Lock()
        self._champions: Champions | None = None
        self._checked_at = -math.inf

    def current_versions(self) -> dict[str, str]:
        """The champion pointer as the registry holds it now: {kind: version id}."""
        try:
            rows = store.fetch_df("api_champions", {}, self.store_path)
        except duckdb.CatalogException:
            return {}
        return dict(zip(rows["kind"], rows["version_id"], strict=True))

    def get(self) -> Champions:
        """The loaded champions; ServingUnavailableError while a kind has no champion."""
        with self._lock:
            now = self.clock()
            if self._champions is not None and now - self._checked_at < self.check_every_s:
                return self._champions
            versions = self.current_versions()
            self._checked_at = now
            missing = [k for k in MODEL_KINDS if k not in versions]
            if missing:
                raise ServingUnavailableError(
                    f"no {' and no '.join(missing)} champion in the store yet; train one with `python -m core retrain`"
                )
            cached = self._champions
            if cached is None or cached.versions != versions:
                self._champions = load_champions(versions, self.store_path)
            assert self._champions is not None
            return self._champions

    def peek(self) -> Champions | None:
        """The champions loaded so far, without touching the store."""
        return self._champions


def load_champions(versions: Mapping[str, str], store_path: StorePath = None) -> Champions:
    """Both champion models by version id, through the registry's checksum and type allow-list."""
    forecaster_version, forecaster = registry.load_version(versions["forecaster"], store_path)
    classifier_version, classifier = registry.load_version(versions["stuck_classifier"], store_path)
    columns = tuple(dict.fromkeys([*forecaster_version.feature_columns, *classifier_version.feature_columns]))
    return Champions(forecaster_version.version_id, forecaster, classifier_version.version_id, classifier, columns)


# ---------------------------------------------------------------- online scoring


def _journey_params(journey: Journey, as_of: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    events = sorted(journey.events, key=lambda e: _utc_naive(e.event_ts))
    event_params = {
        "as_of": as_of,
        "order_id": journey.order_id,
        # Ids keep the batch's tie-break (event_ts, event_id) when the caller sends the stored ones.
        "event_ids": [e.event_id or f"posted-{i:05d}" for i, e in enumerate(events)],
        "stages": [e.stage for e in events],
        "event_ts": [_utc_naive(e.event_ts) for e in events],
        "event_attrs": [json.dumps(dict(e.attrs)) if e.attrs else None for e in events],
        "now": store.utcnow(),
    }
    attributes = dict(journey.attributes)
    order_params: dict[str, Any] = {name: attributes.get(name) for name in ORDER_FIELDS}
    for name in ("placed_at", "promised_at"):
        if isinstance(order_params[name], datetime):
            order_params[name] = _utc_naive(order_params[name])
    order_params.update(
        order_id=journey.order_id,
        attrs=json.dumps(dict(journey.attrs)) if journey.attrs else None,
        now=event_params["now"],
    )
    return event_params, order_params


_QUOTED = re.compile(r"'[^']*'")


def _reason_field(reason: str, fields: Sequence[str], fallback: str) -> str:
    """The column a quarantine reason is about: the first column name it mentions outside quotes."""
    for word in re.findall(r"[a-z_]+", _QUOTED.sub("", reason)):
        if word in fields:
            return word
    return fallback


def check_journey_contract(journey: Journey, store_path: StorePath = None) -> None:
    """Run the ingestion's own row checks (`core/sql/ingest_check_*.sql`, with `contract`'s parameters)
    on a posted journey; JourneyContractError naming each field ingestion would quarantine, and why.

    Its events are checked like an events file's rows (known stage, not in the future, stages in
    order, nothing after a terminal stage, an id not stored for another order); its order, when any
    attribute is posted, like an orders file's row (placed_at given and not in the future). The
    journey replaces its own order's stored rows, as in scoring, so only other orders' stored rows
    are compared with it. "The future" is the later of the wall clock and the store's latest event
    (a simulated world may run ahead of the wall clock).
    """
    problems: list[tuple[str, str]] = []
    with store.connect(store_path, read_only=True) as con:
        clock = con.execute(store.load_sql("api_journey_check_clock")).fetchone()
        now = store.utcnow()
        if clock and clock[0] is not None:
            now = max(now, pd.Timestamp(clock[0]).to_pydatetime())
        latest_allowed_at = contract.latest_allowed(now)
        event_ids = [e.event_id or f"posted-{i:05d}" for i, e in enumerate(journey.events)]
        con.execute(
            store.load_sql("api_journey_check_shadow_events"), {"event_ids": event_ids, "order_id": journey.order_id}
        )
        con.execute(store.load_sql("api_journey_check_shadow_orders"))
        con.execute(store.load_sql("api_journey_check_view_events"))
        con.execute(store.load_sql("api_journey_check_view_orders"))
        con.execute(store.load_sql("ingest_batch_events"))
        con.execute(
            store.load_sql("api_journey_check_events"),
            {
                "row_numbers": list(range(1, len(journey.events) + 1)),
                "event_ids": event_ids,
                "order_id": journey.order_id,
                "stages": [e.stage for e in journey.events],
                "event_ts": [_utc_naive(e.event_ts) for e in journey.events],
            },
        )
        con.execute(store.load_sql("ingest_check_events"), contract.contract_params("events", latest_allowed_at))
        event_fields = tuple(contract.LANDING_COLUMNS["events"])
        for row_number, reason in con.execute(store.load_sql("api_journey_check_reasons")).fetchall():
            field_name = _reason_field(str(reason), event_fields, "stage")
            name = "order.order_id" if field_name == "order_id" else f"events.{int(row_number) - 1}.{field_name}"
            problems.append((f"body.{name}", str(reason)))
        _, order_params = _journey_params(journey, store.utcnow())
        posted = {name: order_params[name] for name in ORDER_FIELDS}
        if any(value is not None for value in posted.values()):
            con.execute(store.load_sql("ingest_batch_orders"))
            con.execute(store.load_sql("api_journey_check_order"), {"order_id": journey.order_id, **posted})
            con.execute(store.load_sql("ingest_check_orders"), contract.contract_params("orders", latest_allowed_at))
            order_fields = tuple(contract.LANDING_COLUMNS["orders"])
            for _, reason in con.execute(store.load_sql("api_journey_check_reasons")).fetchall():
                problems.append((f"body.order.{_reason_field(str(reason), order_fields, 'order_id')}", str(reason)))
    if problems:
        raise JourneyContractError(problems)


def default_as_of(journey: Journey, store_path: StorePath = None) -> datetime:
    """The instant a journey is scored at when none is given: the later of its last event and the store's."""
    last_posted = max(_utc_naive(e.event_ts) for e in journey.events)
    with store.connect(store_path, read_only=True) as con:
        row = con.execute("select max(event_ts) from events").fetchone()
    last_stored = pd.Timestamp(row[0]).to_pydatetime() if row and row[0] is not None else last_posted
    return max(last_posted, last_stored)


def build_journey_features(journey: Journey, as_of: datetime, store_path: StorePath = None) -> pd.DataFrame:
    """The single-instant prefix features of one posted journey at `as_of`, computed by the batch's
    SQL over the store's events up to `as_of` with the journey in place of the stored order."""
    if not journey.events:
        raise NotScorableError("the journey has no events; send at least one")
    as_of = _utc_naive(as_of)
    completion = features.detect_completion(store_path)
    event_params, order_params = _journey_params(journey, as_of)
    with store.connect(store_path, read_only=True) as con:
        con.execute(store.load_sql("api_journey_events"), event_params)
        con.execute(store.load_sql("api_journey_orders"), order_params)
        con.execute(store.load_sql("api_journey_view_events"))
        con.execute(store.load_sql("api_journey_view_orders"))
        # From here on, the same statements as features.build_prefix_features(mode="single").
        con.execute(store.load_sql("features_events"), features._params(as_of, completion))
        con.execute(store.load_sql("features_prefixes_single"), {"at": as_of})
        batch_stages = con.execute(store.load_sql("api_journey_batch_stages")).df()
        con.execute(store.load_sql("api_journey_keep_order"), {"order_id": journey.order_id})
        kept = con.execute("select count(*) from feat_prefixes").fetchone()
        if not kept or int(kept[0]) == 0:
            visible = con.execute(
                "select count(*) from feat_events where order_id = $order_id", {"order_id": journey.order_id}
            ).fetchone()
            if not visible or int(visible[0]) == 0:
                raise NotScorableError(
                    f"order {journey.order_id} has no event at or before {as_of.isoformat()}; "
                    "send as_of after its first event"
                )
            raise NotScorableError(
                f"order {journey.order_id} has ended by {as_of.isoformat()} (it reached a terminal stage); "
                "there is nothing left to forecast"
            )
        con.execute(store.load_sql("features_load_levels"), features.level_params(as_of, completion))
        base = con.execute(store.load_sql("features_base"), features._stall_params()).df()
        activity_long = con.execute(store.load_sql("features_activity_counts")).df()
        event_attr_long = con.execute(store.load_sql("features_event_attrs")).df()
        case_attr_long = con.execute(store.load_sql("features_case_attrs")).df()
        variants = con.execute(store.load_sql("features_variants")).df()
    frame = features._assemble(base, activity_long, event_attr_long, case_attr_long, variants, None)
    frame.attrs["completion"] = completion
    frame.attrs["batch_count_columns"] = _batch_count_columns(batch_stages)
    return frame


def _batch_count_columns(batch_stages: pd.DataFrame) -> list[str]:
    """The count columns of the batch frame: its pivot has one per stage seen, the most frequent if too many."""
    totals = batch_stages.set_index("stage")["events"]
    if len(totals) > features.MAX_ACTIVITY_COLUMNS:
        totals = totals.nlargest(features.MAX_ACTIVITY_COLUMNS)
    return [f"{features.ACTIVITY_PREFIX}{stage}" for stage in totals.index]


def _complete_counts(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Activities the batch frame has a column for but this journey never had count 0, as in the
    batch's pivot; activities no open order had stay absent (missing), as in the batch."""
    missing = [c for c in columns if c.startswith(features.ACTIVITY_PREFIX) and c not in frame]
    if missing:
        frame = frame.assign(**{c: 0 for c in missing})
        frame[missing] = frame[missing].astype("int32")
    return frame


@cache
def _threadpools() -> ThreadpoolController:
    # Built on first use, once scikit-learn's OpenMP runtime is loaded, so the limit reaches it.
    return ThreadpoolController()


def predict_frame(frame: pd.DataFrame, champions: Champions) -> pd.DataFrame:
    """Forecasts and stuck probabilities of feature rows: what the batch computes, per row."""
    from core.models import evaluate

    frame = _complete_counts(frame, frame.attrs.get("batch_count_columns", ()))
    # One thread: a few rows gain nothing from OpenMP, whose spinning workers (per request thread)
    # fight the server's other requests for the cores; measured 4 s instead of 0.06 s on a busy box.
    with _threadpools().limit(limits=1):
        quantiles = evaluate.predict_forecast(champions.forecaster, frame)
        stuck = evaluate.predict_stuck(champions.classifier, frame)
    out = frame[["order_id", "as_of_at", "current_stage", "elapsed_h"]].copy()
    out[["p10_h", "p50_h", "p90_h"]] = quantiles[["p10_h", "p50_h", "p90_h"]]
    out["stuck_prob"] = stuck.to_numpy()
    return out


_TYPICAL: dict[tuple[str, str, str], dict[str, Any]] = {}


def typical_inputs(champions: Champions, store_path: StorePath = None) -> dict[str, Any] | None:
    """The typical input values of the champions' reference sample (what the batch list's reasons
    compare with), once per champion pair; None until a daily run has served the pair and written
    its reference sample."""
    key = (str(config.store_path(store_path)), champions.forecaster_version, champions.classifier_version)
    if key not in _TYPICAL:
        models = batch.ServingModels(
            "champion",
            champions.forecaster_version,
            champions.classifier_version,
            champions.forecaster,
            champions.classifier,
        )
        path = batch.reference_file(models, store_path)
        try:
            reference = pd.read_parquet(io.BytesIO(checked_files.read_checked(path)))
        except (FileNotFoundError, checked_files.CheckedFileError):
            return None  # no reasons rather than reasons against a damaged or edited sample
        categorical, numeric = batch.model_inputs(champions.classifier)
        _TYPICAL[key] = batch.typical_values(reference, categorical, numeric)
    return _TYPICAL[key]


def explain_scored(frame: pd.DataFrame, champions: Champions, store_path: StorePath = None) -> list[dict[str, Any]]:
    """The reasons of one scored order: the batch list's own explainer (`batch.explain_stuck`) against
    the same typical values, so the API and the at-risk list give the same reasons for the same order."""
    typical = typical_inputs(champions, store_path)
    if typical is None:
        return []
    return batch.explain_stuck(champions.classifier, frame, typical)[0]


def score_journey(
    journey: Journey, champions: Champions, store_path: StorePath = None, as_of: datetime | None = None
) -> dict[str, Any]:
    """Score one posted journey online with the champions: the same answer as the batch for the same input."""
    at = _utc_naive(as_of) if as_of is not None else default_as_of(journey, store_path)
    frame = build_journey_features(journey, at, store_path)
    scored = predict_frame(frame, champions)
    row = {**frame.iloc[0].to_dict(), **scored.iloc[0].to_dict()}
    as_of_at = pd.Timestamp(row["as_of_at"]).to_pydatetime()
    result: dict[str, Any] = {
        "order_id": journey.order_id,
        "as_of_at": as_of_at,
        "current_stage": str(row["current_stage"]),
        "elapsed_h": float(row["elapsed_h"]),
        "stuck_prob": float(row["stuck_prob"]),
        "forecaster_version": champions.forecaster_version,
        "classifier_version": champions.classifier_version,
        "reasons": explain_scored(frame, champions, store_path),
    }
    for q in ("p10", "p50", "p90"):
        hours = float(row[f"{q}_h"])
        result[f"{q}_h"] = hours
        result[f"eta_{q}_at"] = as_of_at + timedelta(hours=hours)
    return result


def plain_value(value: Any) -> Any:
    """A pandas/numpy cell as a plain Python value (NaN and NaT become None)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value
