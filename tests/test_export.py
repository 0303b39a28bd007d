"""Export: CSV and Excel with text cells a spreadsheet would run as formulas written as text."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

from core.access.roles import PermissionDeniedError, User
from core.errors import ConfigError
from core.triage import export

RISKY = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"]
FRAME = pd.DataFrame(
    {
        "order_id": ["O1", "O2", "O3", "O4", "O5", "O6"],
        "note": RISKY,
        "value": [1.5, -2.0, 3.0, 4.0, 5.0, 6.0],
        "at": [datetime(2026, 3, 10, 9, 30)] * 6,
    }
)


@pytest.mark.parametrize("text", RISKY)
def test_risky_text(text):
    assert export.is_risky(text)
    assert export.safe_text(text) == "'" + text


@pytest.mark.parametrize("value", ["O1", "a=b", "", 5, -2.0, None])
def test_harmless_cells_are_unchanged(value):
    assert not export.is_risky(value)
    assert export.safe_text(value) == value


def test_csv_neutralises_risky_text_and_keeps_numbers():
    text = export.to_csv_bytes(FRAME).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert header == ["order_id", "note", "value", "at"]
    assert [r[1] for r in rows] == ["'" + t for t in RISKY]
    assert [r[2] for r in rows] == ["1.5", "-2.0", "3.0", "4.0", "5.0", "6.0"]  # a negative number stays a number
    assert rows[0][3] == "2026-03-10 09:30:00"


def test_excel_writes_risky_text_as_text():
    workbook = load_workbook(io.BytesIO(export.to_excel_bytes(FRAME)))
    sheet = workbook["list"]
    assert [c.value for c in sheet[1]] == ["order_id", "note", "value", "at"]
    notes = [sheet.cell(row=r, column=2) for r in range(2, 8)]
    assert [c.value for c in notes] == [*RISKY[:5], "\nx"]  # XML reads a lone CR back as LF
    assert {c.data_type for c in notes} == {"s"}  # never "f" (formula)
    assert sheet.cell(row=3, column=3).value == -2.0
    assert sheet.cell(row=2, column=4).value == datetime(2026, 3, 10, 9, 30)


def test_excel_keeps_missing_values_empty():
    workbook = load_workbook(
        io.BytesIO(export.to_excel_bytes(pd.DataFrame({"a": [None, "x"], "b": [float("nan"), 1.0]})))
    )
    assert [[c.value for c in row] for row in workbook.active.iter_rows(min_row=2)] == [[None, None], ["x", 1.0]]


def test_export_checks_the_role_and_the_format():
    assert export.export_list(User("ana", "triage"), FRAME, "csv").startswith(b'\xef\xbb\xbf"order_id"')
    assert export.export_list(User("ana", "triage"), FRAME, "xlsx")[:2] == b"PK"
    with pytest.raises(ConfigError, match="unknown export format 'pdf'"):
        export.export_list(User("ana", "triage"), FRAME, "pdf")


def test_export_refuses_a_role_without_it(monkeypatch):
    monkeypatch.setitem(export.roles.ROLE_ACTIONS, "triage", frozenset())
    with pytest.raises(PermissionDeniedError, match="may not export list"):
        export.export_list(User("ana", "triage"), FRAME, "csv")


def test_excel_export_drops_control_characters_instead_of_failing():
    # A value with a control character (stored before the contract refused them) once made the
    # At-risk page's export raise IllegalCharacterError while rendering.
    frame = pd.DataFrame({"carrier": ["DHL\x07", "U\x1b[31mPS", "tab\tand\nbreak"], "n": [1, 2, 3]})
    workbook = load_workbook(io.BytesIO(export.export_list(User("ana", "triage"), frame, "xlsx")))
    assert [c.value for c in workbook.active["A"]] == ["carrier", "DHL", "U[31mPS", "tab\tand\nbreak"]
