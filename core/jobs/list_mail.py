"""The daily run's mail of the at-risk list: sent after the day is written when recipients are set
($JOURNEYOPS_LIST_MAIL_TO or `DailySettings.list_mail_to`), as a `list_mail` job run of its own.

A mail that does not go is a failed `list_mail` run (which the next daily run's `job_failed` rule
raises as an alert) and a `list_mail_deliveries` row — never an exception into the daily run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from core.config import StorePath
from core.errors import JourneyOpsError
from core.jobs import runs
from core.triage import mail, worklist

log = logging.getLogger(__name__)

KIND = "list_mail"


class ListMailError(JourneyOpsError):
    """The list mail did not go (the job run fails with this message)."""


def recipients_for(configured: Sequence[str] | None) -> list[str]:
    """The daily run's recipients: the setting when given (empty: none), else $JOURNEYOPS_LIST_MAIL_TO."""
    if configured is not None:
        return mail.parse_recipients(list(configured), "list_mail_to")
    return mail.configured_recipients()


def mail_configured(as_of: date, store_path: StorePath, configured: Sequence[str] | None) -> dict[str, Any] | None:
    """The daily run's step: mail the day's list when recipients are set; None when none are."""
    try:
        recipients = recipients_for(configured)
    except JourneyOpsError as exc:  # a mistyped address in the setting: a failed mail, not a failed day
        return _failed_run(as_of, store_path, str(exc))
    if not recipients:
        return None
    if as_of not in worklist.list_days(store_path):  # no champion yet, so no list: nothing to send
        return {"recipients": len(recipients), "ok": False, "attempts": 0, "error": None, "skipped": "no list"}
    return mail_list(as_of, store_path, recipients)


def mail_list(
    as_of: date,
    store_path: StorePath,
    recipients: Sequence[str],
    *,
    settings: mail.SmtpSettings | None = None,
    retries: int = 2,
    backoff_s: float = 2.0,
) -> dict[str, Any]:
    """Send the day's list to `recipients` as a `list_mail` job run; how it went, never an exception."""
    outcome: dict[str, Any] = {"recipients": len(recipients), "ok": False, "attempts": 0, "error": None}
    try:
        with runs.job_run(KIND, {"as_of": as_of.isoformat(), "recipients": len(recipients)}, store_path) as run:
            try:
                delivery = mail.send_list(
                    as_of,
                    recipients,
                    store_path,
                    settings=settings,
                    trigger="daily",
                    retries=retries,
                    backoff_s=backoff_s,
                )
            except JourneyOpsError as exc:  # nothing was sent: no SMTP server set, a bad address
                delivery = mail.MailDelivery(len(recipients), False, 0, error=str(exc))
                _record_unsent(delivery, as_of, store_path)
            outcome.update(ok=delivery.ok, attempts=delivery.attempts, refused=delivery.refused, error=delivery.error)
            run.figures.update(outcome)
            if not delivery.ok:
                raise ListMailError(f"the at-risk list of {as_of} was not mailed: {delivery.error}")
    except Exception as exc:  # a failed mail is a failed run and a warning, not the end of the day
        log.warning("list mail of %s failed: %s", as_of, exc)
        outcome["error"] = outcome["error"] or f"{type(exc).__name__}: {exc}"
    return outcome


def _failed_run(as_of: date, store_path: StorePath, error: str) -> dict[str, Any]:
    """A `list_mail` run that failed before anything could be sent (recorded for the job_failed rule)."""
    log.warning("list mail of %s not sent: %s", as_of, error)
    try:
        with runs.job_run(KIND, {"as_of": as_of.isoformat(), "recipients": 0}, store_path):
            raise ListMailError(f"the at-risk list of {as_of} was not mailed: {error}")
    except Exception as exc:  # the run is recorded as failed; the day goes on
        log.debug("list mail run recorded as failed: %s", exc)
    return {"recipients": 0, "ok": False, "attempts": 0, "error": error}


def _record_unsent(delivery: mail.MailDelivery, as_of: date, store_path: StorePath) -> None:
    try:
        mail.record_delivery(delivery, as_of, 0, "daily", store_path)
    except Exception as exc:  # best effort, as for a sent one
        log.warning("list mail of %s not recorded: %s", as_of, exc)
