"""The triage team's work list: a morning's shown list with filters (held-out orders never leave the
store), an order's journey timeline, the ETA its customer sees and how its forecast moved."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from core import store
from core.config import StorePath
from core.domain import end_of_day

FILTER_COLUMNS: tuple[str, ...] = ("stage", "carrier", "region", "channel")
# The columns of the list as exported (the At-risk page's download and the mailed workbook), in order.
EXPORT_COLUMNS: tuple[str, ...] = (
    "rank",
    "order_id",
    "expected_cost",
    "stuck_prob",
    "stage",
    "carrier",
    "region",
    "channel",
    "order_value",
    "eta_p10_at",
    "eta_p50_at",
    "eta_p90_at",
    "reasons",
    "last_action",
)


@dataclass(frozen=True)
class ListFilters:
    """Filters of the at-risk list: empty tuples and None bounds mean "any"."""

    stages: tuple[str, ...] = ()
    carriers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None

    def params(self) -> dict[str, Any]:
        """The filters as bound SQL parameters."""
        return {
            "stages": list(self.stages),
            "carriers": list(self.carriers),
            "regions": list(self.regions),
            "channels": list(self.channels),
            "min_value": self.min_value,
            "max_value": self.max_value,
        }


def list_days(store_path: StorePath = None) -> list[date]:
    """The mornings that have a triage list, newest first."""
    days = store.fetch_df("worklist_days", {}, store_path)
    return [pd.Timestamp(d).date() for d in days["as_of_date"]]


def reasons_text(reasons: Any) -> str:
    """The model's reasons (JSON text or a list of {"text": ...}) as one readable line."""
    if reasons is None or (isinstance(reasons, float) and pd.isna(reasons)):
        return ""
    items = json.loads(reasons) if isinstance(reasons, str) else reasons
    return "; ".join(str(item.get("text") or item.get("feature") or "") for item in items or [])


def read_worklist(as_of_date: date, filters: ListFilters | None = None, store_path: StorePath = None) -> pd.DataFrame:
    """Grain: order on the morning's shown list, ranked by expected cost, with its last action; filtered."""
    params = {"as_of_date": as_of_date, **(filters or ListFilters()).params()}
    listed = store.fetch_df("worklist_list", params, store_path)
    listed["reasons"] = [reasons_text(r) for r in listed["reasons"]]
    return listed


def export_frame(listed: pd.DataFrame) -> pd.DataFrame:
    """The list as it is exported: the export columns present, in their order."""
    return listed[[c for c in EXPORT_COLUMNS if c in listed.columns]]


def filter_options(listed: pd.DataFrame) -> dict[str, list[str]]:
    """The values each filter can take on an (unfiltered) list, sorted."""
    return {c: sorted(str(v) for v in listed[c].dropna().unique()) for c in FILTER_COLUMNS}


def is_listed(order_id: str, as_of_date: date, store_path: StorePath = None) -> bool:
    """Whether the order is on that morning's shown list (a held-out order is not)."""
    found = store.fetch_df("worklist_on_list", {"order_id": order_id, "as_of_date": as_of_date}, store_path)
    return int(found.loc[0, "listed"]) > 0


def read_journey(order_id: str, as_of_date: date, store_path: StorePath = None) -> pd.DataFrame:
    """Grain: event of the order up to the end of the as-of day, with the hours it stayed after it."""
    return store.fetch_df("worklist_journey", {"order_id": order_id, "until": end_of_day(as_of_date)}, store_path)


def read_order(order_id: str, as_of_date: date, store_path: StorePath = None) -> dict[str, Any] | None:
    """The order's attributes, the ETA its customer sees and the latest forecast interval; None if unknown."""
    found = store.fetch_df("worklist_order", {"order_id": order_id, "as_of_date": as_of_date}, store_path)
    if found.empty:
        return None
    return {k: (None if pd.isna(v) else v) for k, v in found.iloc[0].to_dict().items()}


def read_forecast_history(order_id: str, as_of_date: date, store_path: StorePath = None) -> pd.DataFrame:
    """Grain: morning — the champion's forecast for the order, up to the as-of day."""
    return store.fetch_df("worklist_forecast_history", {"order_id": order_id, "as_of_date": as_of_date}, store_path)


def read_actions(order_id: str, as_of_date: date, store_path: StorePath = None) -> pd.DataFrame:
    """Grain: action taken on the order from any list up to the as-of day, newest first."""
    return store.fetch_df("actions_read", {"order_id": order_id, "as_of_date": as_of_date}, store_path)
