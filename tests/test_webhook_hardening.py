"""The alert webhook probed from outside: feed text cannot mention @channel or plant links in a
chat message, and a webhook URL's credentials and token never reach a log, a stored row or an error."""

from __future__ import annotations

import logging
from datetime import date

from core import store
from core.monitor import alert_delivery
from core.monitor.alerts import Alert
from tests.test_alerts import hook_factory  # noqa: F401 - the fixture

HOSTILE = Alert(
    date(2026, 3, 2),
    "new_category",
    "warning",
    "carrier",
    "'carrier' has values never seen: '<!channel> see <https://evil.example/x|your invoice> & pay\x1b[31m'",
)


def test_feed_text_is_escaped_for_chat_webhooks(hook_factory):  # noqa: F811
    hook = hook_factory([])
    assert alert_delivery.post_webhook(hook.url, [HOSTILE], timeout=2).ok
    assert hook.bodies[0]["text"] == (
        "[warning] 2026-03-02 new_category carrier: 'carrier' has values never seen: "
        "'&lt;!channel&gt; see &lt;https://evil.example/x|your invoice&gt; &amp; pay[31m'"
    )
    # the structured record keeps the value as it was (JSON-escaped, never rendered as markup)
    assert hook.bodies[0]["alerts"][0]["message"] == HOSTILE.message


def test_webhook_credentials_and_token_are_never_logged_or_stored(hook_factory, store_file, monkeypatch, caplog):  # noqa: F811
    hook = hook_factory([])
    port = hook.url.split(":")[2].split("/")[0]
    url = f"http://ops-bot:s3cr3t-pass@127.0.0.1:{port}/hooks/secret-token?key=api-key-123"
    monkeypatch.setenv(alert_delivery.WEBHOOK_ENV, url)
    caplog.set_level(logging.DEBUG)
    delivery = alert_delivery.notify([HOSTILE], store_path=store_file, retries=0, timeout=2)
    assert delivery is not None
    assert delivery.target == f"http://127.0.0.1:{port}"
    with store.connect(store_file, read_only=True) as con:
        stored = con.execute("select target, coalesce(error, '') from alert_deliveries").fetchall()
    shown = " ".join([*stored[0], str(delivery), caplog.text])
    for secret in ("s3cr3t-pass", "ops-bot", "secret-token", "api-key-123"):
        assert secret not in shown, secret


def test_an_unparseable_webhook_url_is_not_quoted():
    delivery = alert_delivery.post_webhook("http://u:pw@[::1:99/x", [HOSTILE], retries=0)
    assert delivery.target == "(invalid url)"
    assert "pw" not in str(delivery)
