"""The model factory's models: custom estimators, training and evaluation, metrics, the
benchmark log and the model report (features in, fitted Pipelines, evaluations and backtests out)."""
