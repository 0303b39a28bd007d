"""Posting alerts to a webhook ($JOURNEYOPS_WEBHOOK_URL) with retries, and recording how it went: never an exception,
always a record.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core import store
from core.config import StorePath
from core.monitor.alerts import Alert

# The logger keeps the name it had when this lived in `alerts`, so log filters keep matching.
log = logging.getLogger("core.monitor.alerts")


WEBHOOK_ENV = "JOURNEYOPS_WEBHOOK_URL"


@dataclass(frozen=True)
class Delivery:
    """How a webhook post went: never an exception, always a record."""

    target: str
    ok: bool
    attempts: int
    status_code: int | None
    error: str | None


def webhook_url() -> str | None:
    """The configured webhook URL ($JOURNEYOPS_WEBHOOK_URL), or None when alerts are not posted."""
    return os.environ.get(WEBHOOK_ENV) or None


def _target(url: str) -> str:
    """The URL as it may be logged, stored and shown: scheme, host and port only.

    A webhook's credentials (user:password@), path and query often are the secret.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "(invalid url)"
    if not host:
        return "(invalid url)"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _scrub(text: str, url: str) -> str:
    """An error message with every secret part of the URL replaced (exceptions may quote it)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return text.replace(url, "***")
    secrets = [url, parts.netloc if "@" in parts.netloc else "", parts.path, parts.query, parts.password or ""]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, "***")
    return text


def escape_chat_text(text: str) -> str:
    """Feed text made inert for a Slack-style `text` field: &, < and > escaped (so no <!channel>
    mention or <url|link> markup), control characters dropped."""
    text = "".join(ch for ch in text if ch in "\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_payload(alerts: Sequence[Alert]) -> dict[str, Any]:
    """The JSON body: the alerts, plus a `text` summary that chat webhooks display (escaped: feed
    values such as a carrier's name reach it)."""
    lines = [
        escape_chat_text(f"[{a.severity}] {a.as_of.isoformat()} {a.rule} {a.subject}: {a.message}") for a in alerts
    ]
    return {
        "source": "journeyops",
        "count": len(alerts),
        "alerts": [a.to_dict() for a in alerts],
        "text": "\n".join(lines),
    }


def post_webhook(
    url: str, alerts: Sequence[Alert], timeout: float = 5.0, retries: int = 2, backoff_s: float = 0.5
) -> Delivery:
    """POST the alerts as JSON; retry on failure; log and return the outcome, never raise."""
    target = _target(url)
    if target == "(invalid url)" or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        log.warning("webhook not posted: %s is not an http(s) URL", target)
        return Delivery(target, False, 0, None, "not an http(s) URL")
    body = json.dumps(webhook_payload(alerts), default=str).encode()
    error: str | None = None
    status_code: int | None = None
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "journeyops"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
                status_code = int(response.status)
            return Delivery(target, True, attempts, status_code, None)
        except urllib.error.HTTPError as exc:
            status_code, error = exc.code, f"HTTP {exc.code} {exc.reason}"
        except Exception as exc:  # the job must go on whatever the network does
            status_code, error = None, _scrub(f"{type(exc).__name__}: {exc}", url)
        log.warning("webhook post to %s failed (attempt %d of %d): %s", target, attempts, retries + 1, error)
        if attempt < retries:
            time.sleep(backoff_s * (attempt + 1))
    return Delivery(target, False, attempts, status_code, error)


def record_delivery(delivery: Delivery, alerts: Sequence[Alert], store_path: StorePath = None) -> None:
    """Store the outcome of a webhook post (target host only: a webhook path often carries a secret)."""
    with store.transaction(store_path) as con:
        con.execute(
            store.load_sql("monitor_delivery_insert"),
            {
                "at": store.utcnow(),
                "target": delivery.target,
                "alert_ids": [a.alert_id for a in alerts],
                "ok": delivery.ok,
                "attempts": delivery.attempts,
                "status_code": delivery.status_code,
                "error": delivery.error,
            },
        )


def notify(
    alerts: Sequence[Alert],
    url: str | None = None,
    store_path: StorePath = None,
    timeout: float = 5.0,
    retries: int = 2,
    backoff_s: float = 0.5,
) -> Delivery | None:
    """Post alerts to the webhook (argument, else $JOURNEYOPS_WEBHOOK_URL) and record it; None if nothing to do."""
    url = url or webhook_url()
    if not url or not alerts:
        return None
    delivery = post_webhook(url, alerts, timeout=timeout, retries=retries, backoff_s=backoff_s)
    try:
        record_delivery(delivery, alerts, store_path)
    except Exception as exc:  # recording is best effort: a busy store must not fail the job
        log.warning("webhook delivery to %s not recorded: %s", delivery.target, exc)
    return delivery
