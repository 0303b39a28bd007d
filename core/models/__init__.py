"""The model factory's models: custom estimators (and `boosting`, their fast batch prediction),
`training_data` (training sets and the chronological split), `training` (the candidates),
`evaluate` (scoring and judging them on the holdout), `deployment` (the fit that serves), metrics,
the benchmark log and the model report (features in, fitted Pipelines, evaluations and backtests
out)."""
