from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from core import store
from core.cli import main
from core.errors import ConfigError
from core.monitor import alert_delivery, alert_store, alerts
from core.monitor.alerts import DEFAULT_RULES, Alert, Rule, evaluate_rules

DAY = date(2026, 3, 2)


def drift_row(column: str, **overrides) -> dict:
    row = {
        "column": column,
        "role": "feature",
        "kind": "numeric",
        "method": "wasserstein",
        "score": 0.02,
        "threshold": 0.1,
        "drifted": False,
        "missing_rate_ref": 0.0,
        "missing_rate_cur": 0.0,
        "missing_rate_jumped": False,
        "new_categories": [],
        "new_category_share": 0.0,
        "status": "ok",
        "note": None,
        "rows_ref": 100_000,
        "rows_cur": 3_000,
    }
    return row | overrides


def day_results() -> dict:
    """A bad day: one drifted feature, a new carrier, a missing-rate jump, a broken column, a drifted prediction."""
    return {
        "as_of": DAY,
        "drift": [
            drift_row("elapsed_h", score=0.4, drifted=True, status="drifted"),
            drift_row(
                "carrier",
                kind="categorical",
                method="jensenshannon",
                score=0.19,
                drifted=True,
                new_categories=["quickhaul"],
                new_category_share=0.1,
                status="drifted",
            ),
            drift_row(
                "order_value", missing_rate_ref=0.02, missing_rate_cur=0.15, missing_rate_jumped=True, status="drifted"
            ),
            drift_row("items"),
            drift_row("region", status="invalid", drifted=None, note="column missing from the current batch"),
            drift_row("p50_days", role="prediction", score=0.2, drifted=True, status="drifted"),
        ],
    }


def by_rule(found: list[Alert]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for alert in found:
        out.setdefault(alert.rule, []).append((alert.subject, alert.severity))
    return out


def test_drift_rules_on_a_hand_made_day():
    found = evaluate_rules(day_results())
    assert by_rule(found) == {
        "feature_drift": [("elapsed_h", "warning"), ("carrier", "warning")],
        "drift_share": [("features", "critical")],
        "prediction_drift": [("p50_days", "warning")],
        "missing_rate_jump": [("order_value", "warning")],
        "new_category": [("carrier", "warning")],
        "feature_invalid": [("region", "critical")],
    }
    messages = {(a.rule, a.subject): a.message for a in found}
    assert messages[("feature_drift", "elapsed_h")] == (
        "feature 'elapsed_h' drifted: Wasserstein distance (normed) 0.400 reached the threshold 0.100 "
        "(3,000 rows against 100,000 reference rows)"
    )
    assert messages[("drift_share", "features")] == (
        "3 of 4 features drifted (75.0%), above the 30.0% threshold: elapsed_h, carrier, order_value"
    )
    assert messages[("new_category", "carrier")] == (
        "'carrier' has values never seen in the reference: 'quickhaul' (10.0% of the batch's non-missing rows)"
    )
    assert messages[("missing_rate_jump", "order_value")] == (
        "missing values in 'order_value' rose from 2.0% of reference rows to 15.0% of the batch's 3,000 rows"
    )
    assert messages[("feature_invalid", "region")] == (
        "feature 'region' could not be checked: column missing from the current batch"
    )


def test_a_quiet_day_raises_nothing_and_share_at_threshold_does_not_fire():
    quiet = {"as_of": DAY, "drift": [drift_row(c) for c in "abcd"]}
    assert evaluate_rules(quiet) == []
    # 3 of 10 drifted = 30%: not above the 30% threshold
    rows = [drift_row(c, status="drifted", drifted=True) for c in "abc"] + [drift_row(c) for c in "defghij"]
    assert "drift_share" not in by_rule(evaluate_rules({"as_of": DAY, "drift": rows}))
    # too-small columns are not judged, so they do not dilute the share
    rows = [drift_row("a", status="drifted", drifted=True)] + [drift_row(c, status="too_small") for c in "bcd"]
    assert by_rule(evaluate_rules({"as_of": DAY, "drift": pd.DataFrame(rows)}))["drift_share"] == [
        ("features", "critical")
    ]


def test_validity_feed_and_job_rules():
    results = {
        "as_of": DAY,
        "validity": {
            "rows_total": 5000,
            "rows_quarantined": 120,
            "quarantined_share": 0.024,
            "reasons": [
                {"reason": "unknown stage 'teleported'", "rows_quarantined": 100},
                {"reason": "event_ts in the future", "rows_quarantined": 20},
            ],
        },
        "feed": {"last_event_at": datetime(2026, 3, 1, 5, 30), "as_of_at": datetime(2026, 3, 2, 12, 0)},
        "jobs": [
            {"kind": "daily", "run_id": "r1", "status": "failed", "error": "store busy"},
            {"kind": "retrain", "run_id": "r2", "status": "succeeded"},
        ],
    }
    found = {a.rule: a for a in evaluate_rules(results)}
    assert set(found) == {"validity_failures", "stale_feed", "job_failed"}
    assert found["validity_failures"].message == (
        "120 of 5,000 rows (2.4%) were quarantined, above the 1.0% threshold; "
        "top reasons: unknown stage 'teleported' (100); event_ts in the future (20)"
    )
    assert found["stale_feed"].message == (
        "no events for 30.5 hours before as-of 2026-03-02 12:00 UTC (last at 2026-03-01 05:30), "
        "above the 24 h threshold"
    )
    assert found["stale_feed"].value == pytest.approx(30.5)
    assert found["job_failed"].subject == "daily"
    assert found["job_failed"].message == "the daily job (run r1) failed: store busy"
    fresh = {"as_of": DAY, "feed": {"last_event_at": datetime(2026, 3, 2, 11), "as_of_at": datetime(2026, 3, 2, 12)}}
    assert evaluate_rules(fresh) == []
    never = evaluate_rules({"as_of": DAY, "feed": {"last_event_at": None, "as_of_at": datetime(2026, 3, 2)}})
    assert [a.message for a in never] == ["no events at all before as-of 2026-03-02 00:00 UTC"]


def test_accuracy_coverage_and_benefit_rules():
    results = {
        "as_of": DAY,
        "accuracy": {"mae_days": 1.5, "reference_mae_days": 1.2},
        "coverage": {"coverage": 0.66, "nominal": 0.8},
        "benefit": {"realised": 8000.0, "target": 10000.0, "unit": "EUR"},
    }
    found = {a.rule: a for a in evaluate_rules(results)}
    assert found["accuracy_decay"].message == (
        "forecast MAE on matured forecasts is 1.50 days, 25.0% above the reference 1.20 days (threshold 20.0%)"
    )
    assert found["accuracy_decay"].value == pytest.approx(0.25)
    assert found["coverage_decay"].message == (
        "forecast interval covered 66.0% of actuals against a nominal 80.0%: 14.0 points short (threshold 10.0 points)"
    )
    assert found["benefit_under_target"].message == (
        "benefit realised 8,000 EUR against a target of 10,000 EUR (80.0%), below the 90.0% threshold"
    )
    within = {
        "as_of": DAY,
        "accuracy": {"mae_days": 1.4, "reference_mae_days": 1.2},  # 16.7% worse
        "coverage": {"coverage": 0.75, "nominal": 0.8},
        "benefit": {"realised": 9500.0, "target": 10000.0},
    }
    assert evaluate_rules(within) == []


def test_rules_are_data_and_are_checked():
    strict = [Rule("drift_share", "warning", 0.5, "half the features")]
    assert by_rule(evaluate_rules(day_results(), strict)) == {"drift_share": [("features", "warning")]}
    with pytest.raises(ConfigError, match="unknown alert rule"):
        evaluate_rules(day_results(), [Rule("gut_feeling", "info", None, "?")])
    with pytest.raises(ConfigError, match="severity 'loud'"):
        Rule("drift_share", "loud", 0.1, "?")
    with pytest.raises(ConfigError, match="'as_of' date"):
        evaluate_rules({})
    assert {rule.name for rule in DEFAULT_RULES} == set(alerts.EVALUATORS)


def test_alert_ids_are_stable_per_day_rule_and_subject():
    a = Alert(DAY, "feature_drift", "warning", "carrier", "one message")
    assert a.alert_id == Alert(DAY, "feature_drift", "critical", "carrier", "another message").alert_id
    assert a.alert_id != Alert(DAY, "feature_drift", "warning", "region", "x").alert_id
    assert a.alert_id != Alert(date(2026, 3, 3), "feature_drift", "warning", "carrier", "x").alert_id
    assert len(a.alert_id) == 16


def test_store_is_idempotent_and_keeps_an_acknowledgement(store_file):
    found = evaluate_rules(day_results())
    assert len(alert_store.store_alerts(found, store_file)) == 7
    assert alert_store.store_alerts(found, store_file) == []  # the re-run adds nothing
    target = found[0]
    alert_store.set_alert_status(target.alert_id, "acknowledged", store_file)
    reworded = Alert(target.as_of, target.rule, target.severity, target.subject, "reworded", 0.5, 0.1)
    alert_store.store_alerts([reworded], store_file)
    stored = alert_store.read_alerts(None, store_file).set_index("alert_id")
    assert len(stored) == 7
    assert stored.loc[target.alert_id, ["status", "message"]].tolist() == ["acknowledged", "reworded"]
    assert len(alert_store.read_alerts(None, store_file, status="open")) == 6
    assert alert_store.read_alerts(DAY, store_file)["severity"].tolist()[:2] == ["critical", "critical"]
    assert alert_store.read_alerts(date(2026, 3, 3), store_file).empty
    with pytest.raises(ConfigError, match="no alert with id nope"):
        alert_store.set_alert_status("nope", "acknowledged", store_file)
    with pytest.raises(ConfigError, match="not one of open, acknowledged"):
        alert_store.set_alert_status(target.alert_id, "closed", store_file)


class Hook:
    """A local webhook receiver answering with scripted status codes (then 200), optionally slowly."""

    def __init__(self, statuses: list[int], delay_s: float = 0.0) -> None:
        self.statuses, self.delay_s, self.bodies = list(statuses), delay_s, []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                time.sleep(hook.delay_s)
                self.send_response(hook.statuses.pop(0) if hook.statuses else 200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_factory():
    made: list[Hook] = []

    def make(statuses: list[int], delay_s: float = 0.0) -> Hook:
        made.append(Hook(statuses, delay_s))
        return made[-1]

    yield make
    for hook in made:
        hook.close()


ONE = [Alert(DAY, "new_category", "warning", "carrier", "'carrier' has values never seen: 'quickhaul'")]


def test_webhook_posts_json(hook_factory):
    hook = hook_factory([])
    delivery = alert_delivery.post_webhook(hook.url, ONE, timeout=2)
    assert (delivery.ok, delivery.attempts, delivery.status_code, delivery.error) == (True, 1, 200, None)
    assert delivery.target == hook.url.removesuffix("/hooks/secret-token")
    body = hook.bodies[0]
    assert body["count"] == 1
    assert body["alerts"][0] | {"alert_id": None} == {
        "alert_id": None,
        "as_of": "2026-03-02",
        "rule": "new_category",
        "severity": "warning",
        "subject": "carrier",
        "message": "'carrier' has values never seen: 'quickhaul'",
        "value": None,
        "threshold": None,
        "status": "open",
    }
    assert body["text"] == "[warning] 2026-03-02 new_category carrier: 'carrier' has values never seen: 'quickhaul'"


def test_webhook_retries_then_gives_up_without_raising(hook_factory, caplog):
    flaky = hook_factory([500])
    assert alert_delivery.post_webhook(flaky.url, ONE, timeout=2, backoff_s=0).attempts == 2
    down = hook_factory([503, 503, 503])
    delivery = alert_delivery.post_webhook(down.url, ONE, timeout=2, backoff_s=0)
    assert (delivery.ok, delivery.attempts, delivery.status_code) == (False, 3, 503)
    assert delivery.error == "HTTP 503 Service Unavailable"
    assert len(down.bodies) == 3
    assert "failed (attempt 3 of 3)" in caplog.text
    assert "secret-token" not in caplog.text


def test_webhook_timeout_and_refused_connection_are_recorded_not_raised(hook_factory):
    slow = hook_factory([], delay_s=1.0)
    started = time.monotonic()
    delivery = alert_delivery.post_webhook(slow.url, ONE, timeout=0.2, retries=1, backoff_s=0)
    assert time.monotonic() - started < 1.5
    assert (delivery.ok, delivery.attempts) == (False, 2)
    assert "timed out" in delivery.error
    closed = hook_factory([])
    url = closed.url
    closed.close()
    refused = alert_delivery.post_webhook(url, ONE, timeout=1, retries=0)
    assert (refused.ok, refused.attempts, refused.status_code) == (False, 1, None)
    assert alert_delivery.post_webhook("file:///etc/passwd", ONE) == alert_delivery.Delivery(
        "(invalid url)", False, 0, None, "not an http(s) URL"
    )


def test_notify_posts_and_records_only_the_host(hook_factory, store_file, monkeypatch):
    assert alert_delivery.notify(ONE, store_path=store_file) is None  # no URL configured: nothing to do
    hook = hook_factory([])
    monkeypatch.setenv(alert_delivery.WEBHOOK_ENV, hook.url)
    delivery = alert_delivery.notify(ONE, store_path=store_file)
    assert delivery is not None and delivery.ok
    with store.connect(store_file, read_only=True) as con:
        rows = con.execute("select target, alert_ids, ok, attempts, status_code from alert_deliveries").fetchall()
    assert rows == [(delivery.target, [ONE[0].alert_id], True, 1, 200)]
    assert "secret" not in rows[0][0]


def test_cli_lists_alerts_as_json(store_file, capsys):
    alert_store.store_alerts(evaluate_rules(day_results()), store_file)
    alert_store.store_alerts(
        [Alert(date(2026, 3, 1), "stale_feed", "critical", "events", "no events for 30 hours")], store_file
    )
    assert main(["alerts", "--json", "--store", str(store_file)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 8
    assert {"as_of", "rule", "severity", "subject", "message", "status", "alert_id"} <= set(listed[0])
    assert main(["alerts", "--json", "--since", "2026-03-02", "--store", str(store_file)]) == 0
    since = json.loads(capsys.readouterr().out)
    assert {a["as_of"] for a in since} == {"2026-03-02"}
    assert [a["rule"] for a in since][:2] == ["drift_share", "feature_invalid"]  # critical first
    assert main(["alerts", "--since", "yesterday", "--store", str(store_file)]) == 2
    assert capsys.readouterr().err == "error: --since 'yesterday' is not a date; write it as YYYY-MM-DD\n"


def test_feed_freshness_sees_only_events_up_to_as_of(store_file):
    with store.transaction(store_file) as con:
        for event_id, at in [("e1", datetime(2026, 3, 1, 5, 30)), ("e2", datetime(2026, 3, 2, 18, 0))]:
            con.execute(
                "insert into events values ($id, 'O1', 'placed', $at, null, 'test', $at)", {"id": event_id, "at": at}
            )
    feed = alert_store.read_feed(datetime(2026, 3, 2, 12, 0), store_file)
    assert feed == {"last_event_at": datetime(2026, 3, 1, 5, 30), "as_of_at": datetime(2026, 3, 2, 12, 0)}
    assert [a.rule for a in evaluate_rules({"as_of": DAY, "feed": feed})] == ["stale_feed"]
    assert alert_store.read_feed(datetime(2026, 2, 1), store_file)["last_event_at"] is None


STALE = Rule("stale_feed", "critical", 24.0, "no events")


def run_alert_day(day: date, found: list[Alert], store_file) -> None:
    """The alert write of one daily run: the day's evaluations replaced in one transaction."""
    with store.transaction(store_file) as con:
        alert_store.write_alerts(con, found, datetime(2026, 3, 9, 8), replace_day=day)


def stale_on(day: date, gap_h: float) -> list[Alert]:
    return [Alert(day, "stale_feed", "critical", "events", f"no events for {gap_h:g} hours", gap_h, 24.0)]


def open_count(day: date, store_file) -> int:
    figures = store.fetch_df("today_figures", {"as_of_date": day}, store_file)
    return int(figures.set_index("as_of_date").loc[pd.Timestamp(day), "alerts_open"])


def test_a_condition_holding_three_days_is_one_item_then_resolves(store_file):
    for offset, gap_h in enumerate([30.0, 54.0, 78.0]):
        run_alert_day(date(2026, 3, 2 + offset), stale_on(date(2026, 3, 2 + offset), gap_h), store_file)
        assert len(alert_store.read_alerts(None, store_file)) == 1
        assert open_count(date(2026, 3, 2 + offset), store_file) == 1
    item = alert_store.read_alerts(None, store_file).iloc[0]
    assert item["alert_id"] == stale_on(date(2026, 3, 2), 30.0)[0].alert_id  # the opening day's id
    assert (item["status"], item["days_open"], item["value"]) == ("open", 3, 78.0)
    assert (item["as_of"].date(), item["last_seen_on"].date()) == (date(2026, 3, 2), date(2026, 3, 4))
    assert item["message"] == "no events for 78 hours"

    run_alert_day(date(2026, 3, 5), [], store_file)  # the feed is back: the item resolves itself
    item = alert_store.read_alerts(None, store_file).iloc[0]
    assert (item["status"], item["days_open"], item["resolved_on"].date()) == ("resolved", 3, date(2026, 3, 5))
    assert alert_store.read_alerts(None, store_file, status="open").empty
    assert [open_count(date(2026, 3, d), store_file) for d in (4, 5)] == [1, 0]
    with store.connect(store_file, read_only=True) as con:  # every day's evaluation is kept
        history = con.execute("select as_of, value from alert_days order by as_of").fetchall()
    assert history == [(date(2026, 3, 2), 30.0), (date(2026, 3, 3), 54.0), (date(2026, 3, 4), 78.0)]

    run_alert_day(date(2026, 3, 6), [], store_file)
    run_alert_day(date(2026, 3, 7), stale_on(date(2026, 3, 7), 40.0), store_file)  # a new occurrence
    items = alert_store.read_alerts(None, store_file)
    assert items["status"].tolist() == ["open", "resolved"]
    assert items["as_of"].dt.date.tolist() == [date(2026, 3, 7), date(2026, 3, 2)]
    assert open_count(date(2026, 3, 7), store_file) == 1
    assert alert_store.read_alerts(date(2026, 3, 5), store_file)["as_of"].dt.date.tolist() == [date(2026, 3, 7)]


def test_rerunning_a_day_rebuilds_its_items_and_keeps_an_acknowledgement(store_file):
    for day in (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)):
        run_alert_day(day, stale_on(day, 30.0), store_file)
    item_id = stale_on(date(2026, 3, 2), 30.0)[0].alert_id
    alert_store.set_alert_status(item_id, "acknowledged", store_file)
    run_alert_day(date(2026, 3, 4), stale_on(date(2026, 3, 4), 30.0), store_file)  # the same re-run
    item = alert_store.read_alerts(None, store_file).set_index("alert_id").loc[item_id]
    assert (item["status"], item["days_open"]) == ("acknowledged", 3)
    assert open_count(date(2026, 3, 4), store_file) == 0  # acknowledged: nobody needs to look again

    run_alert_day(date(2026, 3, 3), [], store_file)  # a re-run of the middle day that no longer raises it
    items = alert_store.read_alerts(None, store_file).set_index("alert_id")
    assert items.loc[item_id, "days_open"] == 1 and items.loc[item_id, "resolved_on"].date() == date(2026, 3, 3)
    reopened = items.loc[stale_on(date(2026, 3, 4), 30.0)[0].alert_id]
    assert (reopened["status"], reopened["days_open"]) == ("open", 1)


def test_a_failed_job_raises_an_alert_in_the_next_daily_run_posted_once(hook_factory, store_file, monkeypatch):
    from core.jobs import closed_loop, daily, runs
    from core.world import simulate

    hook = hook_factory([])
    monkeypatch.setenv(alert_delivery.WEBHOOK_ENV, hook.url)
    folder = closed_loop.landing_dir(store_file)
    simulate.simulate_to_dir(folder, days=5, orders_per_day=20, start="2026-03-02", progress=False)
    daily.run_daily(date(2026, 3, 3), store_file, landing_dir=folder, retrain=False)
    assert alert_store.read_alerts(None, store_file).query("rule == 'job_failed'").empty
    with pytest.raises(RuntimeError, match="disk full"):
        with runs.job_run("retrain", {"as_of": "2026-03-03"}, store_file):
            raise RuntimeError("disk full")

    daily.run_daily(date(2026, 3, 4), store_file, landing_dir=folder, retrain=False)
    failed = alert_store.read_alerts(None, store_file, status="open").query("rule == 'job_failed'")
    assert failed["subject"].tolist() == ["retrain"]
    assert "RuntimeError: disk full" in failed["message"].iloc[0]

    daily.run_daily(date(2026, 3, 5), store_file, landing_dir=folder, retrain=False)  # no retrain since
    failed = alert_store.read_alerts(None, store_file, status="open").query("rule == 'job_failed'")
    assert failed["days_open"].tolist() == [2]
    posted = [a["rule"] for body in hook.bodies for a in body["alerts"]]
    assert posted.count("job_failed") == 1  # the item still open is not posted again

    with runs.job_run("retrain", {"as_of": "2026-03-05"}, store_file):
        pass  # the next retrain succeeds: the condition clears
    daily.run_daily(date(2026, 3, 6), store_file, landing_dir=folder, retrain=False)
    failed = alert_store.read_alerts(None, store_file).query("rule == 'job_failed'")
    assert failed["status"].tolist() == ["resolved"]
    assert failed["resolved_on"].dt.date.tolist() == [date(2026, 3, 6)]


def test_per_day_alerts_of_an_older_store_become_one_item(store_file):
    import duckdb

    with duckdb.connect(str(store_file)) as con:  # a store at schema 010: one row per rule, subject and day
        con.execute("create table schema_version (version integer not null, applied_at timestamp not null)")
        for version, name in store.migrations():
            if version < 11:
                con.execute(store.load_sql(name.removesuffix(".sql")))
                con.execute("insert into schema_version values ($v, now())", {"v": version})
        for day in (date(2026, 3, 2), date(2026, 3, 3)):
            old = stale_on(day, 30.0)[0]
            con.execute(
                "insert into alerts values ($id, $day, 'stale_feed', 'critical', 'events', 'm', 'open', 30, 24, "
                "now(), now())",
                {"id": old.alert_id, "day": day},
            )
    with store.transaction(store_file):
        pass  # a writer migrates the store
    assert len(alert_store.read_alerts(None, store_file, status="open")) == 1  # the older row reads resolved
    run_alert_day(date(2026, 3, 4), stale_on(date(2026, 3, 4), 54.0), store_file)
    item = alert_store.read_alerts(None, store_file).iloc[0]
    assert len(alert_store.read_alerts(None, store_file)) == 1
    assert (item["alert_id"], item["days_open"], item["value"]) == (stale_on(date(2026, 3, 2), 0)[0].alert_id, 3, 54.0)
