"""The at-risk list by e-mail, sent to a real SMTP server on 127.0.0.1 (aiosmtpd): recipients, subject,
the text body's rows against the stored list, the attached workbook; failures recorded, never raised."""

from __future__ import annotations

import email
import email.policy
import io
import re
import socket
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from typing import Any

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from openpyxl import load_workbook

from core import store
from core.cli import main
from core.errors import ConfigError
from core.jobs import list_mail
from core.triage import mail, worklist
from tests.fixtures_worklist import TODAY, tiny_store

SUBJECT = "JourneyOps at-risk list for 2026-03-10: 3 orders"
# The shown list of 10 March (O3 is held out): place, order, ETA p50 (end of day + p50_h, UTC), reason.
TOP_LINES = [
    "  1. O1  ETA Thu 12 Mar 16:00  waiting in allocated 25 h (usual: 6 h)",
    "  2. O2  ETA Fri 13 Mar 02:00  payment on hold",
    '  3. O5  ETA Fri 13 Mar 12:00  =HYPERLINK("http://x")',
]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook)
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message": email.message_from_bytes(envelope.content, policy=email.policy.default),
                "login": session.auth_data,
            }
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
def tiny(store_file, monkeypatch):
    for name in (*mail.SMTP_ENVS, mail.RECIPIENTS_ENV, mail.PUBLIC_URL_ENV, "JOURNEYOPS_DISPLAY_TZ"):
        monkeypatch.delenv(name, raising=False)
    return tiny_store(store_file)


def _settings(port: int, **kwargs: Any) -> mail.SmtpSettings:
    return mail.SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="ops@example.com", **kwargs)


def _text(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _workbook(message: email.message.EmailMessage) -> tuple[str, Any]:
    (part,) = list(message.iter_attachments())
    return part.get_filename(), load_workbook(io.BytesIO(part.get_content())).active


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_the_list_arrives_with_its_top_rows_and_the_whole_list_attached(tiny, inbox):
    handler, port = inbox
    delivery = mail.send_list(TODAY, ["a@example.com", "b@example.com"], tiny, settings=_settings(port))

    assert (delivery.ok, delivery.attempts, delivery.recipients, delivery.error) == (True, 1, 2, None)
    (got,) = handler.messages
    assert got["from"] == "ops@example.com"
    assert got["to"] == ["a@example.com", "b@example.com"]
    message = got["message"]
    assert message["Subject"] == SUBJECT
    lines = _text(message).splitlines()
    start = lines.index("Top 3 (ETA p50 in UTC):") + 1
    assert lines[start : start + 3] == TOP_LINES
    stored = worklist.read_worklist(TODAY, store_path=tiny)["order_id"].tolist()
    assert [line.split()[1] for line in lines[start : start + 3]] == stored
    body = _text(message) + message.get_body(preferencelist=("html",)).get_content()
    assert "None" not in body and "nan" not in body.lower().split()
    assert re.findall(r"\b[a-z]+_[a-z_]+\b", body) == []  # no storage names

    name, sheet = _workbook(message)
    assert name == "at-risk-2026-03-10.xlsx"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == worklist.EXPORT_COLUMNS
    assert [r[1] for r in rows[1:]] == ["O1", "O2", "O5"]  # exactly the shown list: held-out O3 absent
    reason = sheet.cell(row=4, column=worklist.EXPORT_COLUMNS.index("reasons") + 1)
    assert (reason.value, reason.data_type) == ('=HYPERLINK("http://x")', "s")

    recorded = mail.read_deliveries(tiny)
    assert recorded[["as_of_date", "trigger", "recipients", "orders", "ok", "attempts"]].to_dict("records") == [
        {"as_of_date": pd.Timestamp(TODAY), "trigger": "cli", "recipients": 2, "orders": 3, "ok": True, "attempts": 1}
    ]


def test_a_storage_word_in_a_reason_reads_as_words(tiny):
    with store.transaction(tiny) as con:
        con.execute(
            "update triage_list set reasons = $r where order_id = 'O2'",
            {"r": '[{"text": "current stage payment_hold (typical allocated)"}]'},
        )
    message = mail.build_message(TODAY, tiny)
    assert "  2. O2  ETA Fri 13 Mar 02:00  current stage payment hold (typical allocated)" in message.text


def test_the_dashboard_link_is_in_the_message_when_configured(tiny, monkeypatch):
    assert "dashboard" not in mail.build_message(TODAY, tiny).text
    monkeypatch.setenv(mail.PUBLIC_URL_ENV, "https://ops.example.com/")
    message = mail.build_message(TODAY, tiny)
    assert "Open it in the dashboard: https://ops.example.com/at-risk" in message.text
    assert '<a href="https://ops.example.com/at-risk">' in message.html


def test_a_server_that_is_down_is_a_recorded_failure_after_the_retries(tiny):
    settings = _settings(_free_port())  # nothing listens there
    delivery = mail.send_list(TODAY, ["a@example.com"], tiny, settings=settings, retries=2, backoff_s=0)

    assert (delivery.ok, delivery.attempts) == (False, 3)
    assert delivery.error.startswith("ConnectionRefusedError")
    recorded = mail.read_deliveries(tiny).iloc[0]
    assert (bool(recorded["ok"]), int(recorded["attempts"]), recorded["error"]) == (False, 3, delivery.error)


def test_a_refused_login_is_not_retried_and_the_password_never_shows(tiny, tmp_path):
    handler = Inbox()

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"ops", b"s3cret-pw")
        return AuthResult(success=ok, handled=False)  # the server answers 535 itself

    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=check,
        auth_require_tls=False,
    )
    controller.start()
    try:
        good = mail.send_list(
            TODAY, ["a@example.com"], tiny, settings=_settings(controller.port, user="ops", password="s3cret-pw")
        )
        bad = mail.send_list(
            TODAY,
            ["a@example.com"],
            tiny,
            settings=_settings(controller.port, user="ops", password="wrong-pw"),
            backoff_s=0,
        )
    finally:
        controller.stop()
    assert good.ok and len(handler.messages) == 1
    assert (bad.ok, bad.attempts) == (False, 1)  # 535: the same answer next time
    assert "SMTPAuthenticationError" in bad.error and "wrong-pw" not in bad.error


def test_the_password_comes_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv(mail.HOST_ENV, "mail.example.com")
    monkeypatch.setenv(mail.PASSWORD_FILE_ENV, str(secret))
    monkeypatch.delenv(mail.STARTTLS_ENV, raising=False)
    monkeypatch.delenv(mail.PORT_ENV, raising=False)
    settings = mail.smtp_settings()
    assert (settings.host, settings.port, settings.starttls, settings.password) == (
        "mail.example.com",
        587,
        True,
        "from-a-file",
    )
    assert "from-a-file" not in repr(settings)
    monkeypatch.setenv(mail.PASSWORD_FILE_ENV, str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="JOURNEYOPS_SMTP_PASSWORD_FILE names .*missing, which cannot be read"):
        mail.smtp_settings()


@pytest.mark.parametrize("bad", ["not-an-address", "a@example.com\r\nBcc: x@example.com", "Boss <a@example.com>"])
def test_an_address_that_is_not_one_plain_address_is_refused(bad):
    with pytest.raises(ConfigError, match="is not an e-mail address"):
        mail.parse_recipients(f"ok@example.com,{bad}")


def test_the_command_sends_with_the_environment_s_settings(tiny, inbox, monkeypatch):
    handler, port = inbox
    monkeypatch.setenv(mail.HOST_ENV, "127.0.0.1")
    monkeypatch.setenv(mail.PORT_ENV, str(port))
    monkeypatch.setenv(mail.STARTTLS_ENV, "off")
    code, out, err = _run(["list-mail", "--to", "a@example.com,b@example.com", "--store", str(tiny)])
    assert (code, err) == (0, "")
    assert out == "at-risk list of 2026-03-10 sent to 2 recipients via 127.0.0.1\n"
    assert [m["message"]["Subject"] for m in handler.messages] == [SUBJECT]


def test_a_dry_run_prints_the_message_and_sends_nothing(tiny, inbox, monkeypatch):
    handler, port = inbox
    monkeypatch.setenv(mail.HOST_ENV, "127.0.0.1")
    monkeypatch.setenv(mail.PORT_ENV, str(port))
    monkeypatch.setenv(mail.STARTTLS_ENV, "off")
    code, out, _ = _run(
        ["list-mail", "--to", "a@example.com", "--as-of", "2026-03-10", "--dry-run", "--store", str(tiny)]
    )
    assert code == 0
    assert out.startswith(f"Subject: {SUBJECT}\nTo: 1 recipient (dry run: nothing sent)\n")
    assert all(line in out.splitlines() for line in TOP_LINES)
    # A workbook stamps the time it was written (its properties, its zip entries), so a second build
    # may deflate a byte or two apart: the size shown is the attachment's, within those bytes.
    size = len(mail.build_message(TODAY, tiny).attachment)
    shown = re.search(r"^Attachment: at-risk-2026-03-10\.xlsx \(([\d,]+) bytes, 3 orders\)$", out, re.MULTILINE)
    assert shown is not None, out
    assert abs(int(shown[1].replace(",", "")) - size) <= 8
    assert handler.messages == []
    assert mail.read_deliveries(tiny).empty


def test_a_day_without_a_list_names_the_days_that_have_one(tiny):
    code, out, err = _run(
        ["list-mail", "--to", "a@example.com", "--as-of", "2026-03-12", "--dry-run", "--store", str(tiny)]
    )
    assert (code, out) == (2, "")
    assert err == "error: no at-risk list for 2026-03-12; lists exist for 2026-03-10, 2026-03-09\n"


def test_no_smtp_server_names_the_variables_to_set(tiny):
    code, _, err = _run(["list-mail", "--to", "a@example.com", "--store", str(tiny)])
    assert code == 2
    assert err.startswith("error: no SMTP server configured: set $JOURNEYOPS_SMTP_HOST")
    assert "$JOURNEYOPS_SMTP_PASSWORD_FILE" in err and "$JOURNEYOPS_MAIL_FROM" in err
    assert mail.read_deliveries(tiny).empty


def test_the_daily_step_records_a_failed_mail_as_a_failed_run_without_raising(tiny):
    outcome = list_mail.mail_list(
        TODAY, tiny, ["a@example.com"], settings=_settings(_free_port()), retries=1, backoff_s=0
    )
    assert (outcome["ok"], outcome["attempts"]) == (False, 2)
    failed = store.fetch_df("daily_failed_jobs", {"as_of_date": date(2026, 3, 11)}, tiny)
    assert failed["kind"].tolist() == ["list_mail"]  # the next daily run's job_failed alert
    assert "the at-risk list of 2026-03-10 was not mailed: ConnectionRefusedError" in failed["error"].iloc[0]
    assert mail.read_deliveries(tiny)["trigger"].tolist() == ["daily"]


def test_the_daily_step_without_a_server_records_why_and_goes_on(tiny, monkeypatch):
    monkeypatch.setenv(mail.RECIPIENTS_ENV, "a@example.com")
    outcome = list_mail.mail_configured(TODAY, tiny, None)
    assert outcome is not None and outcome["ok"] is False
    assert outcome["error"].startswith("no SMTP server configured")
    assert mail.read_deliveries(tiny)[["ok", "attempts", "recipients"]].to_dict("records") == [
        {"ok": False, "attempts": 0, "recipients": 1}
    ]


def test_the_daily_step_sends_to_the_configured_recipients_only(tiny, inbox, monkeypatch):
    handler, port = inbox
    monkeypatch.setenv(mail.HOST_ENV, "127.0.0.1")
    monkeypatch.setenv(mail.PORT_ENV, str(port))
    monkeypatch.setenv(mail.STARTTLS_ENV, "off")
    assert list_mail.mail_configured(TODAY, tiny, ()) is None  # a backfill's empty setting
    assert list_mail.mail_configured(date(2026, 3, 12), tiny, ["a@example.com"])["skipped"] == "no list"
    outcome = list_mail.mail_configured(TODAY, tiny, ["a@example.com"])
    assert (outcome["ok"], outcome["recipients"]) == (True, 1)
    assert [m["to"] for m in handler.messages] == [["a@example.com"]]


def test_the_daily_run_mails_its_new_list_once_and_a_backfill_never(tiny, monkeypatch):
    from core.jobs import daily
    from core.jobs.daily_settings import DailySettings

    calls: list[tuple[date, Any]] = []

    def fake(as_of: date, store_path: Any, configured: Any) -> dict[str, Any]:
        calls.append((as_of, configured))
        return {"recipients": 1, "ok": True, "attempts": 1, "error": None}

    monkeypatch.setattr(list_mail, "mail_configured", fake)
    settings = DailySettings(list_mail_to=("a@example.com",))
    day = date(2026, 3, 11)
    first = daily.run_daily(day, tiny, settings=settings, retrain=False)
    again = daily.run_daily(day, tiny, settings=settings, retrain=False)  # a re-run is not news
    daily.run_backfill(date(2026, 3, 12), date(2026, 3, 12), tiny, settings=settings, retrain=False, progress=False)
    assert (first["list_mail"]["ok"], again["list_mail"]) == (True, None)
    assert calls == [(day, ("a@example.com",)), (date(2026, 3, 12), ())]


def test_a_mistyped_configured_address_is_a_failed_run_not_a_failed_day(tiny, monkeypatch):
    monkeypatch.setenv(mail.RECIPIENTS_ENV, "ops@example.com,not-an-address")
    outcome = list_mail.mail_configured(TODAY, tiny, None)
    assert outcome == {
        "recipients": 0,
        "ok": False,
        "attempts": 0,
        "error": "$JOURNEYOPS_LIST_MAIL_TO: 'not-an-address' is not an e-mail address; "
        "give name@example.com, comma-separated",
    }
    failed = store.fetch_df("daily_failed_jobs", {"as_of_date": date(2026, 3, 11)}, tiny)
    assert failed["kind"].tolist() == ["list_mail"]


def test_starttls_on_never_falls_back_to_a_plain_connection(tiny, inbox):
    handler, port = inbox  # this server offers no STARTTLS
    settings = mail.SmtpSettings(host="127.0.0.1", port=port, starttls=True, user="ops", password="s3cret-pw")
    delivery = mail.send_list(TODAY, ["a@example.com"], tiny, settings=settings, backoff_s=0)
    assert (delivery.ok, delivery.attempts) == (False, 1)  # the same answer next time: not retried
    assert delivery.error.startswith("SMTPNotSupportedError")
    assert handler.messages == []
