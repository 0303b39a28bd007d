"""The records of the alert rules (`alerts`): a rule and the alert it raises."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from core.errors import ConfigError

SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
STATUSES: tuple[str, ...] = ("open", "acknowledged")


@dataclass(frozen=True)
class Rule:
    """One alert rule: what it checks, how severe it is, its threshold (None: the verdict comes from its input)."""

    name: str
    severity: str
    threshold: float | None
    description: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ConfigError(
                f"alert rule {self.name}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}"
            )


@dataclass(frozen=True)
class Alert:
    """One alert of one day; its id is stable across re-runs of that day."""

    as_of: date
    rule: str
    severity: str
    subject: str
    message: str
    value: float | None = None
    threshold: float | None = None
    status: str = "open"

    @property
    def alert_id(self) -> str:
        """A hash of day, rule and subject: the same finding on a re-run is the same alert."""
        key = f"{self.as_of.isoformat()}|{self.rule}|{self.subject}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with the id."""
        return {"alert_id": self.alert_id, **asdict(self), "as_of": self.as_of.isoformat()}


def pct(share: float) -> str:
    """A share (0..1) as a percentage with one decimal."""
    return f"{100 * share:.1f}%"
