"""A short human-readable account of what an ingest or a log import did, for the CLI."""

from __future__ import annotations

from typing import Any


def _log_lines(summary: dict[str, Any]) -> list[str]:
    lines = [
        f"{summary['path']}: {summary['events_loaded']:,} events and "
        f"{summary['cases_loaded']:,} new cases loaded, "
        f"{summary['rows_quarantined']:,} rows quarantined, "
        f"{summary['rows_duplicate']:,} already stored ({summary['seconds']:.1f} s)"
    ]
    if summary.get("lifecycle_rule"):
        lines.append(f"lifecycle: {summary['lifecycle_rule']}")
    if summary.get("case_attributes"):
        lines.append(f"case attributes kept: {', '.join(summary['case_attributes'])}")
    return lines


def _landing_lines(summary: dict[str, Any]) -> list[str]:
    loaded = summary["rows_loaded"]
    lines = [
        f"{summary['files_loaded']} files loaded, {summary['files_already_loaded']} already "
        f"loaded, {summary['files_rejected']} rejected: {loaded['orders']:,} orders, "
        f"{loaded['events']:,} events, {loaded['contacts']:,} contacts; "
        f"{summary['rows_quarantined']:,} rows quarantined, "
        f"{summary['rows_duplicate']:,} duplicates skipped ({summary['seconds']:.1f} s)"
    ]
    for item in summary.get("rejected", []):
        lines.append(f"rejected {item['error']}")
    if summary.get("ignored_files"):
        lines.append(f"ignored (not landing files): {', '.join(summary['ignored_files'])}")
    for item in summary.get("files", []):
        for warning in item.get("warnings", []):
            lines.append(f"{item['path']}: {warning}")
    return lines


def format_summary(summary: dict[str, Any]) -> str:
    """A short human-readable account of an ingest or import-log summary."""
    if summary.get("kind") == "log":
        if summary["status"] == "already loaded":
            return f"{summary['path']}: already loaded on {summary['first_loaded_at']}; nothing changed"
        lines = _log_lines(summary)
    else:
        lines = _landing_lines(summary)
    for warning in summary.get("warnings", []):
        lines.append(f"warning: {warning}")
    return "\n".join(lines)
