"""Export a table to CSV or Excel with cells safe from formula injection: text a spreadsheet would
run as a formula (starting with =, +, -, @, tab or CR) is written as plain text, and control
characters an Excel cell cannot hold are dropped rather than failing the export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd

from core.access import roles
from core.errors import ConfigError

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def is_risky(value: Any) -> bool:
    """Whether a cell is text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def safe_text(value: Any) -> Any:
    """A risky text cell with a leading apostrophe (CSV has no cell types); anything else unchanged."""
    return "'" + value if is_risky(value) else value


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    # Timestamps without a zone read well in both formats; object columns keep their text.
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_localize(None)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV (with a BOM so Excel reads the accents), risky text cells neutralised."""
    out = _plain(frame)
    for column in out.select_dtypes(include=["object", "string"]).columns:
        out[column] = out[column].map(safe_text)
    # Every text cell quoted: a CR inside a field must not end the row for any reader.
    return out.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")


def to_excel_bytes(frame: pd.DataFrame, sheet_name: str = "list") -> bytes:
    """The table as an .xlsx workbook in which every text cell is a string cell, never a formula."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    out = _plain(frame)
    sheet.append([str(c) for c in out.columns])
    for row in out.itertuples(index=False):
        sheet.append([None if _missing(v) else _cell_value(v) for v in row])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if is_risky(cell.value) or cell.data_type == "f":
                # openpyxl types text starting with "=" as a formula; force it back to a string.
                cell.data_type = "s"
                cell.quotePrefix = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _cell_value(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, str):
        # Control characters XML cannot hold would make openpyxl raise mid-export: drop them.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def export_list(user: roles.User, frame: pd.DataFrame, fmt: str) -> bytes:
    """The list in `fmt` (csv or xlsx) for a user whose role may export it."""
    roles.require(user, "export_list")
    if fmt == "csv":
        return to_csv_bytes(frame)
    if fmt == "xlsx":
        return to_excel_bytes(frame)
    raise ConfigError(f"unknown export format {fmt!r}; use csv or xlsx")
