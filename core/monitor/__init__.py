"""Monitoring building blocks the daily job calls: drift, feature validity and alerts.

`drift` compares a batch with the champion's reference sample (Evidently plus our own checks),
`validity` summarises a batch's data-contract results from the quarantine, and `alerts` turns the
day's results into stored alerts and an optional webhook post. Each returns plain dicts/DataFrames.

How the daily job uses them (and why):
- The reference must look like a daily batch: open orders at the same time of day, taken on many
  days (`features.build_prefix_features(mode="single")` per day), keeping the `as_of_at` column.
  Load and calendar features barely vary within a batch but differ between days, so compared with
  a many-day reference they would "drift" every day; `drift.calibrate_thresholds` scores each
  reference day against the rest and sets each column's threshold above what a normal day reaches.
  It costs 10-30 s, so run it once per champion and store the result.
- Leave the `as_of_*` columns out of the monitored features: they are constant within a batch.

    cal = drift.calibrate_thresholds(reference, features, predictions, instant_column="as_of_at",
                                     categorical=cat)                      # once per champion
    res = drift.compute_drift(reference, batch, features, predictions, categorical=cat, calibrated=cal)
    drift.store_drift(res, as_of, store, model_version=v)                 # replaces the day's rows
    summary = validity.read_batch_validity(store, sources=ingested_paths)  # or since=/until=
    validity.store_validity(summary, as_of, store)
    found = alerts.evaluate_rules({"as_of": as_of, "drift": res, "validity": summary,
        "feed": alerts.read_feed(as_of_at, store), "jobs": [{"kind", "run_id", "status", "error"}],
        "accuracy": {"mae_days", "reference_mae_days"}, "coverage": {"coverage", "nominal"},
        "benefit": {"realised", "target", "unit"}})                        # missing keys: rule skipped
    new = alerts.store_alerts(found, store)     # idempotent; returns only the new alerts
    alerts.notify(new, store_path=store)        # $JOURNEYOPS_WEBHOOK_URL; never raises

On the simulator (1,000 orders/day, reference = 20 days at 06:00) each scenario fired on the first
run after onset and a 30-day control run fired nothing (highest score 0.78x its threshold).
"""
