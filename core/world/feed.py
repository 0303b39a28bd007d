"""What the world delivers: a day's orders, events and contacts, their landing-file schemas and ids.

Also two readers of a feed that tests and checks share: one journey row per order, and the orders
that stayed in a stage longer than its stall limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.domain import CANCELLED, STALL_LIMIT_HOURS

# Landing-file schemas: the ingest contract codes against exactly these names and types.
TS_TYPE = pa.timestamp("us", tz="UTC")
ORDERS_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("placed_at", TS_TYPE),
        ("channel", pa.string()),
        ("region", pa.string()),
        ("customer_tier", pa.string()),
        ("category", pa.string()),
        ("order_value", pa.float64()),
        ("items", pa.int32()),
        ("payment_method", pa.string()),
        ("ship_mode", pa.string()),
        ("warehouse", pa.string()),
        ("carrier", pa.string()),
        ("promised_at", TS_TYPE),
    ]
)
EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("order_id", pa.string()),
        ("stage", pa.string()),
        ("event_ts", TS_TYPE),
    ]
)
CONTACTS_SCHEMA = pa.schema(
    [
        ("contact_id", pa.string()),
        ("order_id", pa.string()),
        ("contact_at", TS_TYPE),
        ("reason", pa.string()),
    ]
)
PARQUET_COMPRESSION = "zstd"


@dataclass(frozen=True)
class DayFeed:
    """What the feed delivers for one day, in the landing-file columns."""

    day: date
    orders: pd.DataFrame
    events: pd.DataFrame
    contacts: pd.DataFrame


def write_parquet(frame: pd.DataFrame, schema: pa.Schema, path: Path) -> None:
    """Write one landing file with fixed schema, compression and no run-dependent metadata."""
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), path, compression=PARQUET_COMPRESSION)


# Formatting ids in a comprehension measured faster than numpy.strings (≈ 0.5 µs per id).
def order_ids(gids: np.ndarray) -> np.ndarray:
    """Feed ids of orders: O and seven digits."""
    return np.array([f"O{g:07d}" for g in gids.tolist()], dtype=object)


def event_ids(gids: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    """Feed ids of events: the order's number and the event's sequence within the order."""
    return np.array(
        [f"E{g:07d}-{s:02d}" for g, s in zip(gids.tolist(), seqs.tolist(), strict=True)],
        dtype=object,
    )


def contact_ids(gids: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    """Feed ids of contacts: the order's number and the contact's sequence within the order."""
    return np.array(
        [f"C{g:07d}-{s:02d}" for g, s in zip(gids.tolist(), seqs.tolist(), strict=True)],
        dtype=object,
    )


def order_journeys(events: pd.DataFrame) -> pd.DataFrame:
    """One row per order of a feed's events: placed_at, delivered_at, cancelled_at (NaT if none)."""
    milestones = events[events["stage"].isin(["placed", "delivered", CANCELLED])]
    wide = milestones.pivot_table(index="order_id", columns="stage", values="event_ts", aggfunc="min")
    journeys = pd.DataFrame(index=wide.index)
    for stage, column in (
        ("placed", "placed_at"),
        ("delivered", "delivered_at"),
        (CANCELLED, "cancelled_at"),
    ):
        journeys[column] = wide[stage] if stage in wide else pd.NaT
    return journeys.reset_index()


def stuck_orders(events: pd.DataFrame, as_of: datetime | pd.Timestamp) -> pd.Series:
    """Ids of orders that stayed in a stage longer than its stall limit (open ones up to as_of)."""
    ordered = events.sort_values(["order_id", "event_ts", "event_id"])
    left_at = ordered.groupby("order_id")["event_ts"].shift(-1).fillna(pd.Timestamp(as_of))
    dwell_h = (left_at - ordered["event_ts"]).dt.total_seconds() / 3600.0
    limit_h = ordered["stage"].map(STALL_LIMIT_HOURS).astype(float)
    over_limit = dwell_h > limit_h
    stuck = ordered.loc[over_limit.fillna(False).to_numpy(), "order_id"].unique()
    return pd.Series(sorted(stuck), dtype=object)
