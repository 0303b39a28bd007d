"""The data contract of landing files: their kinds, columns and types, and how a file breaks it.

How the contract is enforced:
- a Parquet file whose contract columns already carry the contract's types (text, float/int,
  zoned timestamps) is read by DuckDB straight into the batch, checked from its schema first;
  any other file is read and typed completely (pyarrow, vectorised, in threads) before any write.
  A file that cannot be read, lacks a required column or has the wrong types raises
  `ContractError` ("<file>: <problem>; <fix>") and writes nothing;
- bad rows (missing id, unknown stage, unparseable, future or implausibly old timestamp, a text
  value with a control character or longer than the cap, stage out of order, conflicting
  duplicate) go to `quarantine` with the raw record as JSON and the reason; the rest
  loads (`core/sql/ingest_check_*.sql` state the row checks and keep only the exceptions).

Timestamp rule: everything is stored as UTC `TIMESTAMP`. Zoned values are converted to UTC. In a
landing CSV a timestamp without an offset is ambiguous, so the file is rejected (write `Z` or
`+00:00`); a typed Parquet timestamp without a zone is taken as UTC, as the landing contract says
its columns are UTC. An imported log's naive timestamps are read in `tz` (default UTC).
Extra columns in a landing file are accepted and ignored (they stay in quarantined raw records).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from core import config, domain, store
from core.errors import ConfigError, ContractError

PathLike = str | os.PathLike[str]

# A clock on the producer's side may run a little ahead of ours; later than this is "in the future".
CLOCK_SKEW = timedelta(minutes=5)
# C0 and C1 control characters (ANSI escapes, NUL, tabs, line breaks): no name or id carries one, an
# Excel cell cannot hold most of them and a terminal would act on them. RE2 syntax, bound as a
# parameter of the row checks.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"
KINDS: tuple[str, ...] = ("orders", "events", "contacts")
# Contract columns of each landing file kind and the type each must carry.
LANDING_COLUMNS: dict[str, dict[str, str]] = {
    "orders": {
        "order_id": "text",
        "placed_at": "timestamp",
        "channel": "text",
        "region": "text",
        "customer_tier": "text",
        "category": "text",
        "order_value": "float",
        "items": "int",
        "payment_method": "text",
        "ship_mode": "text",
        "warehouse": "text",
        "carrier": "text",
        "promised_at": "timestamp",
    },
    "events": {
        "event_id": "text",
        "order_id": "text",
        "stage": "text",
        "event_ts": "timestamp",
    },
    "contacts": {
        "contact_id": "text",
        "order_id": "text",
        "contact_at": "timestamp",
        "reason": "text",
    },
}
LANDING_SUFFIXES: tuple[str, ...] = (".parquet", ".csv", ".csv.gz")


def file_problem(path: Path, problem: str, fix: str) -> ContractError:
    """The ContractError of a file that breaks the contract: "<file>: <problem>; <fix>"."""
    # One line, always: values quoted from a file must not break the CLI's single-line message.
    text = f"{path}: {problem}; {fix}".replace("\r", " ").replace("\n", " ")
    return ContractError(text)


def has_suffix(path: Path, suffixes: Iterable[str]) -> bool:
    """Whether the file's name ends with one of the suffixes, in any case."""
    name = path.name.lower()
    return any(name.endswith(s) for s in suffixes)


def _delimiter_hint(names: Sequence[str]) -> str:
    if len(names) == 1:
        for delimiter, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delimiter in names[0]:
                return f" — the header looks {label}-separated"
    return ""


def require_columns(path: Path, found: Sequence[str], required: Iterable[str], fix: str) -> None:
    """Raise a ContractError naming the required columns the file lacks, if any."""
    missing = [c for c in required if c not in found]
    if missing:
        shown = ", ".join(str(c)[:60] for c in found[:20]) or "none"
        raise file_problem(
            path,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(found: {shown}){_delimiter_hint(list(found))}",
            fix,
        )


def landing_kind(path: PathLike) -> str:
    """The kind of a landing file from its name prefix: orders, events or contacts."""
    source = Path(path)
    name = source.name.lower()
    for kind in KINDS:
        if name.startswith(kind + "_") and has_suffix(source, LANDING_SUFFIXES):
            return kind
    raise file_problem(
        source,
        "not a landing file name",
        "name it orders_<day>, events_<day> or contacts_<day> with .parquet, .csv or .csv.gz",
    )


# Arrow types DuckDB reads into exactly the values the Arrow path would produce; a file whose
# contract columns all have one of these is read by DuckDB directly. Exactly the store's types:
# one read over many files takes the first file's types, so a float32 first would narrow a float64.
def _is_direct_type(kind_of_column: str, value_type: pa.DataType) -> bool:
    if kind_of_column == "text":
        return pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
    if kind_of_column == "float":
        return value_type == pa.float64()
    if kind_of_column == "int":
        return value_type == pa.int32()
    # Zoned only (UTC instants, read as TIMESTAMPTZ whatever the unit); naive or nanosecond ones
    # take the Arrow path.
    return pa.types.is_timestamp(value_type) and value_type.tz is not None and value_type.unit != "ns"


def direct_parquet_rows(path: Path, kind: str) -> int | None:
    """Rows of a Parquet file DuckDB can read straight into the batch, from its footer.

    None: the file takes the Arrow path.
    """
    if not path.name.lower().endswith(".parquet"):
        return None
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
        rows = parquet.metadata.num_rows
    except (pa.ArrowException, OSError, ValueError):
        return None  # the Arrow path reads it again and says what is wrong
    names = schema.names
    if len(names) != len(set(names)):
        return None
    for name, kind_of_column in LANDING_COLUMNS[kind].items():
        if name not in names or not _is_direct_type(kind_of_column, schema.field(name).type):
            return None
    return int(rows)


def latest_allowed(now: datetime | None) -> datetime:
    """The latest naive-UTC timestamp that is not "in the future" at `now` (default: the clock)."""
    moment = now if now is not None else store.utcnow()
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment + CLOCK_SKEW


def earliest_allowed() -> datetime:
    """The earliest naive-UTC timestamp that is not "implausibly old" (configurable, see config)."""
    text = config.earliest_timestamp()
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError as exc:
        raise ConfigError(f"JOURNEYOPS_EARLIEST_TIMESTAMP={text!r} is not an ISO date; write e.g. 2000-01-01") from exc


def row_limits() -> dict[str, Any]:
    """The bound parameters every row check shares besides "now": oldest time, text rules."""
    return {
        "earliest_allowed_at": earliest_allowed(),
        "max_text_chars": config.max_text_chars(),
        "control_characters": CONTROL_CHARACTERS,
    }


def contract_params(kind: str, latest_allowed_at: datetime) -> dict[str, Any]:
    """The bound parameters of `core/sql/ingest_check_<kind>.sql`."""
    params = {"latest_allowed_at": latest_allowed_at, **row_limits()}
    if kind != "events":
        return params
    return {
        "known_stages": sorted(domain.KNOWN_STAGES),
        "ranked_stages": list(domain.STAGES),
        "terminal_stages": list(domain.TERMINAL),
        **params,
    }
