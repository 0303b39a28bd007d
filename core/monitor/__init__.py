"""Monitoring: drift, feature validity and alerts (the daily job's checks), forecast and triage
accuracy, segments, benefits and their assumptions.

`drift` compares a batch with the champion's reference sample (Evidently's methods computed by
`drift_scores`, Evidently's report of the same rows, plus our own checks; its
thresholds come from `drift_calibration`, Evidently sits behind `drift_evidently`, the store behind
`drift_store`),
`validity` summarises a batch's data-contract results from the quarantine, and `alerts` turns the
day's results into stored alerts and an optional webhook post. Each returns plain dicts/DataFrames.

How the daily job uses them (and why):
- The reference must look like a daily batch: open orders at the same time of day, taken on many
  days (`features.build_prefix_features(mode="single")` per day), keeping the `as_of_at` column.
  Load and calendar features barely vary within a batch but differ between days, so compared with
  a many-day reference they would "drift" every day; `drift_calibration.calibrate_thresholds` scores each
  reference day against the rest and sets each column's threshold above what a normal day reaches.
  It costs 10-30 s, so run it once per champion and store the result.
- Leave the `as_of_*` columns out of the monitored features: they are constant within a batch.

    # once per champion, stored beside its reference sample (scoring.batch.load_calibration):
    cal = drift_calibration.calibrate_thresholds(reference, features, predictions, instant_column="as_of_at",
                                                 categorical=cat)
    # the day, computed before anything is written (jobs.daily_compute.compute_day):
    res = drift.compute_drift(reference, batch, features, predictions, categorical=cat, calibrated=cal)
    res = drift.attach_report(res)  # Evidently's report of the same rows and scores, for the HTML view
    summary = validity.read_batch_validity(store, sources=day_file_names)
    found = alerts.evaluate_rules({"as_of": as_of, "drift": res, "validity": summary,
        "feed": {"last_event_at", "as_of_at"}, "accuracy": {"mae_days", "reference_mae_days"},
        "coverage": {"coverage", "nominal"}})                              # missing keys: rule skipped
    # then written with the day's other rows in ONE transaction (jobs.daily.write_day), each writer
    # replacing the day's rows on the job's connection:
    drift_store.write_drift(con, res, as_of, model_version, computed_at)
    validity.write_validity(con, summary, as_of, computed_at)
    alert_store.write_alerts(con, found, computed_at, replace_day=as_of)  # the day's stale alerts go
    # and after the commit, only on a first run of the day:
    alert_delivery.notify(found, store_path=store)  # $JOURNEYOPS_WEBHOOK_URL; never raises

`store_drift`, `store_validity` and `store_alerts` are the same writers in a transaction of their
own, for a caller that writes nothing else (e.g. a one-off check from a notebook or a test).

On the simulator (1,000 orders/day, reference = 20 days at 06:00) each scenario fired on the first
run after onset and a 30-day control run fired nothing (highest score 0.78x its threshold).
"""
