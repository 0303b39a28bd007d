"""The weekly report as an Excel workbook: one sheet per section, number formats by unit suffix, formula-safe text."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.report.contents import SECTIONS, WeeklyReport
from core.triage import export

_MAX_WIDTH = 60


def _number_format(column: str, dtype: Any) -> str | None:
    """Excel number format of a column, from its name's unit suffix and its type."""
    if column.endswith("_at"):
        return "yyyy-mm-dd hh:mm"
    if column in ("as_of", "as_of_date", "week_start") or pd.api.types.is_datetime64_any_dtype(dtype):
        return "yyyy-mm-dd"
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_integer_dtype(dtype):
        return "#,##0"
    if column.endswith("_eur") or column == "expected_cost_eur":
        return "#,##0.00"
    if column in ("p_value", "p_value_adjusted"):
        return "0.0000"
    if column.endswith(("_share", "_rate_ref", "_rate_cur")) or column in (
        "share",
        "stuck_prob",
        "drift_share",
    ):
        return "0.0%"
    if column.endswith(("_h", "_pct", "_value", "_days")) or column in (
        "figure",
        "overall",
        "gap",
        "value",
    ):
        return "#,##0.0"
    if column.endswith("score") or column == "threshold":
        return "0.000"
    if pd.api.types.is_float_dtype(dtype):
        return "#,##0.00"
    return None


def _cell_value(value: Any) -> Any:
    """A value openpyxl writes as data: NaN/NA empty, numpy scalars plain, lists as text."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, bool | int | float | datetime | date):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        value = ", ".join(str(v) for v in value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _display_width(frame: pd.DataFrame, column: str) -> int:
    values = frame[column].head(500).astype(str).str.len()
    longest = int(values.max()) if len(values) else 0
    return max(8, min(_MAX_WIDTH, max(len(column), longest) + 2))


def write_sheet(sheet: Any, frame: pd.DataFrame) -> None:
    """One table on a sheet: bold filled header row, frozen; number formats by unit; fitted widths."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet.append([str(c) for c in frame.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="305496")
    for row in frame.itertuples(index=False, name=None):  # openpyxl writes cell by cell anyway
        sheet.append([_cell_value(v) for v in row])
    for i, column in enumerate(frame.columns, start=1):
        if frame[column].dtype != object:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
            if export.is_risky(cell.value) or cell.data_type == "f":
                # the At-risk export's rule (core.triage.export): a string cell with a quote prefix, never a formula
                cell.data_type = "s"
                cell.quotePrefix = True
    sheet.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = _display_width(frame, str(column))
        fmt = _number_format(str(column), frame[column].dtype)
        if frame[column].dtype == object:
            # a mixed column (the summary's values): numbers by their own type
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
                elif isinstance(cell.value, int) and not isinstance(cell.value, bool):
                    cell.number_format = "#,##0"
        elif fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
    if len(frame.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame) + 1, 1)}"


def write_workbook(report: WeeklyReport, path: str | os.PathLike[str]) -> Path:
    """The report as an .xlsx workbook: one sheet per section, in SECTIONS order."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for key, title in SECTIONS.items():
        write_sheet(workbook.create_sheet(title), report.tables[key])
    workbook.properties.title = f"JourneyOps weekly report {report.week.label}"
    target = Path(path)
    workbook.save(target)
    return target
