"""The model factory's models: features in, fitted Pipelines, evaluations and backtests out."""

from __future__ import annotations

from core.models.training import (
    TrainingRun,
    build_training_frame,
    chronological_split,
    evaluate_model,
    predict_forecast,
    predict_stuck,
    train_candidates,
)

__all__ = [
    "TrainingRun",
    "build_training_frame",
    "chronological_split",
    "evaluate_model",
    "predict_forecast",
    "predict_stuck",
    "train_candidates",
]
