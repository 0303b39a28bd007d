"""The drift monitor's settings: methods, thresholds and their noise floors, the monitor's own checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.errors import ConfigError


@dataclass(frozen=True)
class MonitorSettings:
    """Thresholds of the per-column drift verdicts; the defaults are robust to daily sampling noise."""

    max_rows: int = 100_000  # per side scored (and handed to Evidently's report)
    seed: int = 7
    min_rows: int = 100  # non-null values a side below which a column is too small to judge
    num_method: str = "wasserstein"  # normed by the reference std; a distance, so it does not fire on noise at large n
    cat_method: str = "jensenshannon"
    num_threshold: float = 0.1
    cat_threshold: float = 0.1
    # Noise floors: a threshold is never below what pure sampling noise reaches at this batch size.
    # Normed Wasserstein of two samples of one distribution falls like c/sqrt(n); c = 5 sat above
    # the largest of 200 draws at 300–3,000 rows against 100k for normal, exponential, small-integer,
    # Poisson and 2%-binary columns, and for log-normal/Pareto ones on the log scale (below).
    # For Jensen-Shannon, 8·n·JSD is ≈ chi-square with k-1 degrees of freedom, so we take its
    # (1 - alpha) quantile; alpha is small because sparse categories make the tail heavier.
    num_noise_c: float = 5.0
    cat_noise_alpha: float = 1e-6
    # A non-negative column skewed beyond this (durations, money, counts with a long tail) is
    # compared as sign(x)·log1p(|x|): on the raw scale a few extreme values dominate both the
    # distance and the std it is normed by (Pareto 1.5 reached 11x the threshold on pure noise);
    # on the log scale every shape we tried stayed under 0.9x, and a shift reads as relative.
    log_scale_skew: float = 2.0
    per_column_threshold: Mapping[str, float] = field(default_factory=dict)
    # Missing rate: a rise counts when it is both material and far outside binomial noise.
    missing_jump_min: float = 0.05
    noise_z: float = 4.0
    # New categories: values never seen in the reference, counted when they hold a material share.
    new_category_min_share: float = 0.005
    new_category_min_rows: int = 5
    max_reference_categories: int = 1_000  # above this a column is id-like: every day brings new values
    # Day-to-day calibration (calibrate_thresholds): a daily batch is one instant, and load, calendar
    # and backlog features move with the instant, not with the rows; so a column's threshold is also
    # kept above `calibration_margin` x the largest score of one reference instant against the rest.
    calibration_margin: float = 1.5
    calibration_instants: int = 30
    calibration_rows: int = 20_000  # rows of "the rest" each instant is scored against
    max_new_categories_listed: int = 20

    def __post_init__(self) -> None:
        if self.max_rows < self.min_rows or self.min_rows < 1:
            raise ConfigError(
                f"monitor settings: need 1 <= min_rows <= max_rows, got min_rows={self.min_rows}, "
                f"max_rows={self.max_rows}; fix the MonitorSettings passed to the monitor"
            )
