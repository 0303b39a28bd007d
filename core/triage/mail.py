"""The morning's at-risk list by e-mail, for those who live in their inbox: a subject, a plain-text and
an HTML body with the top rows as the At-risk page shows them, and the whole list attached as the
page's Excel export (formula-safe cells, `core.triage.export`).

Sent over SMTP (STARTTLS unless switched off) with settings from the environment — the password
from $JOURNEYOPS_SMTP_PASSWORD or a file named by $JOURNEYOPS_SMTP_PASSWORD_FILE, never from the
repository. Like the alert webhook (`core.monitor.alert_delivery`): retries with backoff, never an
exception, always a record (`list_mail_deliveries`: recipients counted, never their addresses).
"""

from __future__ import annotations

import html
import logging
import os
import re
import smtplib
import ssl
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import pandas as pd

from core import config, store
from core.config import StorePath
from core.errors import ConfigError
from core.triage import export, morning, worklist

log = logging.getLogger(__name__)

HOST_ENV = "JOURNEYOPS_SMTP_HOST"
PORT_ENV = "JOURNEYOPS_SMTP_PORT"
USER_ENV = "JOURNEYOPS_SMTP_USER"
PASSWORD_ENV = "JOURNEYOPS_SMTP_PASSWORD"
PASSWORD_FILE_ENV = "JOURNEYOPS_SMTP_PASSWORD_FILE"
FROM_ENV = "JOURNEYOPS_MAIL_FROM"
STARTTLS_ENV = "JOURNEYOPS_SMTP_STARTTLS"
RECIPIENTS_ENV = "JOURNEYOPS_LIST_MAIL_TO"
PUBLIC_URL_ENV = "JOURNEYOPS_PUBLIC_URL"
SMTP_ENVS: tuple[str, ...] = (HOST_ENV, PORT_ENV, USER_ENV, PASSWORD_ENV, PASSWORD_FILE_ENV, FROM_ENV, STARTTLS_ENV)
DEFAULT_FROM = "journeyops@localhost"
# The At-risk page's address under the dashboard (ui.navigation: the script's stem, hyphenated).
AT_RISK_PATH = "at-risk"
DEFAULT_TOP = 10
ETA_FORMAT = "%a %d %b %H:%M"  # the page's "ddd D MMM HH:mm"
SHOWN_DAYS = 7  # available days named in the error for a day without a list
SNAKE_WORD = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
ON = ("1", "true", "yes", "on")
OFF = ("0", "false", "no", "off")


class NoListError(ConfigError):
    """The store has no at-risk list for the day asked for."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: the SMTP server, its login, the sender, STARTTLS on or off."""

    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = DEFAULT_FROM
    starttls: bool = True
    timeout_s: float = 10.0

    def __repr__(self) -> str:  # a logged settings object must not show the password
        return f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.user!r}, starttls={self.starttls})"


@dataclass(frozen=True)
class ListMessage:
    """One morning's list as an e-mail: subject, bodies and the attached workbook."""

    as_of: date
    subject: str
    text: str
    html: str
    attachment: bytes
    attachment_name: str
    orders: int


@dataclass(frozen=True)
class MailDelivery:
    """How sending the list went: never an exception, always a record."""

    recipients: int
    ok: bool
    attempts: int
    refused: int = 0
    error: str | None = None


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ON:
        return True
    if value in OFF:
        return False
    raise ConfigError(f"${name} is {value!r}; set it to on or off")


def _password() -> str | None:
    path = os.environ.get(PASSWORD_FILE_ENV, "").strip()
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"${PASSWORD_FILE_ENV} names {path}, which cannot be read ({exc.strerror})") from None
    return os.environ.get(PASSWORD_ENV) or None


def smtp_settings() -> SmtpSettings:
    """The SMTP settings from the environment; a ConfigError naming the variables when no host is set."""
    host = os.environ.get(HOST_ENV, "").strip()
    if not host:
        raise ConfigError(
            f"no SMTP server configured: set ${HOST_ENV} (and as needed ${PORT_ENV}, ${USER_ENV}, "
            f"${PASSWORD_ENV} or ${PASSWORD_FILE_ENV}, ${FROM_ENV}, ${STARTTLS_ENV}=on|off)"
        )
    starttls = _flag(STARTTLS_ENV, True)
    port_text = os.environ.get(PORT_ENV, "").strip() or ("587" if starttls else "25")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"${PORT_ENV} is {port_text!r}; set it to a port number such as 587")
    sender = os.environ.get(FROM_ENV, "").strip() or DEFAULT_FROM
    return SmtpSettings(
        host=host,
        port=int(port_text),
        user=os.environ.get(USER_ENV, "").strip() or None,
        password=_password(),
        sender=parse_recipients(sender, FROM_ENV)[0],
        starttls=starttls,
    )


def parse_recipients(text: str | Sequence[str] | None, what: str = "--to") -> list[str]:
    """The addresses of a comma-separated list (or a sequence), each checked to be one plain address."""
    items = text.split(",") if isinstance(text, str) else list(text or [])
    found: list[str] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        _name, address = parseaddr(item)
        local, _, domain = address.rpartition("@")
        if not local or not domain or any(c.isspace() or ord(c) < 32 for c in address) or address != item:
            raise ConfigError(f"{what}: {item!r} is not an e-mail address; give name@example.com, comma-separated")
        if address not in found:
            found.append(address)
    return found


def configured_recipients() -> list[str]:
    """The daily run's recipients ($JOURNEYOPS_LIST_MAIL_TO, comma-separated); [] when none."""
    return parse_recipients(os.environ.get(RECIPIENTS_ENV, ""), f"${RECIPIENTS_ENV}")


def public_url() -> str | None:
    """The dashboard's At-risk page from $JOURNEYOPS_PUBLIC_URL, or None when unset or not http(s)."""
    base = os.environ.get(PUBLIC_URL_ENV, "").strip()
    if not base:
        return None
    try:
        parts = urllib.parse.urlsplit(base)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return base.rstrip("/") + "/" + AT_RISK_PATH


def in_words(text: str) -> str:
    """Storage words inside a text in words (`payment_hold` → `payment hold`)."""
    return SNAKE_WORD.sub(lambda m: m.group(0).replace("_", " "), text)


def eta_text(value: Any, zone: str) -> str:
    """A p50 ETA as the page shows it, in the display time zone; "no forecast" when missing."""
    if value is None or pd.isna(value):
        return "no forecast"
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(zone).strftime(ETA_FORMAT)


def top_rows(listed: pd.DataFrame, top: int = DEFAULT_TOP, zone: str | None = None) -> list[dict[str, str]]:
    """The first `top` rows of a shown list as the mail shows them: place, order, reason, ETA p50."""
    zone = zone or config.display_timezone()
    places = morning.positions(listed)
    return [
        {
            "place": str(int(places.iloc[i])),
            "order": str(row["order_id"]),
            "reason": in_words(str(row["reasons"] or "")) or "no reasons given",
            "eta": eta_text(row["eta_p50_at"], zone),
        }
        for i, (_, row) in enumerate(listed.head(max(top, 0)).iterrows())
    ]


def _no_list(as_of: date, store_path: StorePath) -> NoListError:
    days = worklist.list_days(store_path)
    if not days:
        return NoListError(
            f"no at-risk list for {as_of}: the store has no list yet; run `python -m core daily --as-of DATE` first"
        )
    named = ", ".join(d.isoformat() for d in days[:SHOWN_DAYS])
    more = f" and {len(days) - SHOWN_DAYS} earlier" if len(days) > SHOWN_DAYS else ""
    return NoListError(f"no at-risk list for {as_of}; lists exist for {named}{more}")


def subject_line(as_of: date, orders: int) -> str:
    """The message's subject."""
    return f"JourneyOps at-risk list for {as_of.isoformat()}: {orders} {'order' if orders == 1 else 'orders'}"


def _text_body(as_of: date, rows: list[dict[str, str]], orders: int, zone: str, link: str | None) -> str:
    lines = [f"The at-risk list of {as_of:%A %d %B %Y}: {orders} orders, ranked by expected cost of delay.", ""]
    if rows:
        lines.append(f"Top {len(rows)} (ETA p50 in {zone}):")
        lines += [f"{r['place']:>3}. {r['order']}  ETA {r['eta']}  {r['reason']}" for r in rows]
    else:
        lines.append("No order is on this morning's list.")
    lines += ["", "The whole list is attached as an Excel workbook."]
    if link:
        lines.append(f"Open it in the dashboard: {link}")
    return "\n".join(lines) + "\n"


def _html_body(as_of: date, rows: list[dict[str, str]], orders: int, zone: str, link: str | None) -> str:
    esc = html.escape
    cells = "".join(
        f"<tr><td>{esc(r['place'])}</td><td>{esc(r['order'])}</td><td>{esc(r['reason'])}</td>"
        f"<td>{esc(r['eta'])}</td></tr>"
        for r in rows
    )
    table = (
        '<table border="1" cellpadding="4" cellspacing="0">'
        f"<tr><th>#</th><th>Order</th><th>Why</th><th>ETA p50 ({esc(zone)})</th></tr>{cells}</table>"
        if rows
        else "<p>No order is on this morning's list.</p>"
    )
    opening = f"<p>The at-risk list of {as_of:%A %d %B %Y}: {orders} orders, ranked by expected cost of delay.</p>"
    closing = "<p>The whole list is attached as an Excel workbook.</p>"
    if link:
        closing += f'<p><a href="{esc(link, quote=True)}">Open it in the dashboard</a></p>'
    return f"<html><body>{opening}{table}{closing}</body></html>"


def build_message(
    as_of: date, store_path: StorePath = None, top: int = DEFAULT_TOP, zone: str | None = None
) -> ListMessage:
    """The morning's at-risk list as a message; NoListError naming the days that have one."""
    if as_of not in worklist.list_days(store_path):
        raise _no_list(as_of, store_path)
    zone = zone or config.display_timezone()
    listed = worklist.read_worklist(as_of, store_path=store_path)
    rows = top_rows(listed, top, zone)
    link = public_url()
    return ListMessage(
        as_of=as_of,
        subject=subject_line(as_of, len(listed)),
        text=_text_body(as_of, rows, len(listed), zone, link),
        html=_html_body(as_of, rows, len(listed), zone, link),
        attachment=export.to_excel_bytes(worklist.export_frame(listed)),
        attachment_name=f"at-risk-{as_of.isoformat()}.xlsx",
        orders=len(listed),
    )


def to_email(message: ListMessage, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The message as MIME: text and HTML alternatives, the workbook attached."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    maintype, subtype = export.MEDIA_TYPES["xlsx"].split("/")
    mail.add_attachment(message.attachment, maintype=maintype, subtype=subtype, filename=message.attachment_name)
    return mail


def _scrub(text: str, settings: SmtpSettings) -> str:
    # An SMTP library may quote what it sent; the password never reaches a log or the store.
    return text.replace(settings.password, "***") if settings.password and len(settings.password) > 1 else text


def _permanent(exc: Exception) -> bool:
    # A 5xx answer (bad login, refused sender or recipients) will be the same next time.
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPNotSupportedError):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= int(exc.smtp_code) < 600


def _send_once(mail: EmailMessage, recipients: Sequence[str], settings: SmtpSettings) -> int:
    """Send over one connection; how many recipients the server refused."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        refused = smtp.send_message(mail, from_addr=settings.sender, to_addrs=list(recipients))
    return len(refused)


def send_message(
    message: ListMessage,
    recipients: Sequence[str],
    settings: SmtpSettings,
    retries: int = 2,
    backoff_s: float = 2.0,
) -> MailDelivery:
    """Send the message; retry what may pass next time with a growing pause; never raise."""
    if not recipients:
        return MailDelivery(0, False, 0, error="no recipients")
    try:
        mail = to_email(message, settings.sender, recipients)
    except Exception as exc:  # a header the policy refuses: nothing to retry
        return MailDelivery(len(recipients), False, 0, error=f"{type(exc).__name__}: {exc}")
    error: str | None = None
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        try:
            refused = _send_once(mail, recipients, settings)
            note = f"{refused} of {len(recipients)} recipients refused" if refused else None
            return MailDelivery(len(recipients), True, attempts, refused, note)
        except Exception as exc:  # the daily run must go on whatever the mail server does
            error = _scrub(f"{type(exc).__name__}: {exc}", settings)
            permanent = _permanent(exc)
        log.warning(
            "list mail via %s:%d failed (attempt %d of %d): %s",
            settings.host,
            settings.port,
            attempts,
            retries + 1,
            error,
        )
        if permanent:
            break
        if attempt < retries:
            time.sleep(backoff_s * (attempt + 1))
    refused_all = len(recipients) if error and error.startswith("SMTPRecipientsRefused") else 0
    return MailDelivery(len(recipients), False, attempts, refused_all, error)


def record_delivery(
    delivery: MailDelivery, as_of: date, orders: int, trigger: str, store_path: StorePath = None
) -> None:
    """Store how a list mail went (counts only: addresses are personal data and the log needs none)."""
    with store.transaction(store_path) as con:
        con.execute(
            store.load_sql("list_mail_delivery_insert"),
            {
                "at": store.utcnow(),
                "as_of_date": as_of,
                "trigger": trigger,
                "recipients": delivery.recipients,
                "refused": delivery.refused,
                "orders": orders,
                "ok": delivery.ok,
                "attempts": delivery.attempts,
                "error": delivery.error,
            },
        )


def read_deliveries(store_path: StorePath = None, limit: int = 50) -> pd.DataFrame:
    """Grain: one list mail — the newest `limit`."""
    return store.fetch_df("list_mail_deliveries_read", {"limit": limit}, store_path)


def send_list(
    as_of: date,
    recipients: Sequence[str],
    store_path: StorePath = None,
    *,
    settings: SmtpSettings | None = None,
    trigger: str = "cli",
    top: int = DEFAULT_TOP,
    retries: int = 2,
    backoff_s: float = 2.0,
) -> MailDelivery:
    """Build the day's message, send it and record how it went. Raises only before sending (no list
    for the day, no SMTP server configured, a bad address): what the caller must fix first."""
    settings = settings or smtp_settings()
    message = build_message(as_of, store_path, top=top)
    delivery = send_message(message, recipients, settings, retries=retries, backoff_s=backoff_s)
    try:
        record_delivery(delivery, as_of, message.orders, trigger, store_path)
    except Exception as exc:  # recording is best effort: a busy store must not hide that the mail went
        log.warning("list mail of %s not recorded: %s", as_of, exc)
    return delivery
