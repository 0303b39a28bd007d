"""Jobs that wire the stages together and compute nothing themselves: `runs` (run records and the
one-job-of-a-kind lock), `retraining` (train, gate, register), `daily` (the daily cycle, with its
steps in `daily_compute`, `daily_monitor`, `daily_retrain` and `daily_settings`), `closed_loop` (the
simulated world fed by the product's decisions, and the demo history) and `queue` (jobs the dashboard
starts in the background)."""
