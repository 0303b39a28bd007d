"""benchmark-log: the hold-out protocol on a hand-made log (exact figures) and on a real one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.errors import ConfigError
from core.models import benchmark_log
from tests.conftest import SHARED_DATA

START = datetime(2026, 1, 5)


def write_daily_log(path: Path, cases: int = 10) -> None:
    """Case i starts on day i and has 3 + i % 4 events one day apart; one extra case has 2 events."""
    lines = ["case_id,activity,timestamp,team"]
    for i in range(cases):
        for k in range(3 + i % 4):
            at = START + timedelta(days=i + k, hours=9)
            lines.append(f"c{i:02d},step {k},{at:%Y-%m-%dT%H:%M:%S}Z,{'red' if i % 2 else 'blue'}")
    for k in range(2):
        lines.append(f"short,step {k},{START + timedelta(days=k):%Y-%m-%dT%H:%M:%S}Z,red")
    path.write_text("\n".join(lines) + "\n")


def test_the_protocol_counts_and_baseline_are_exact(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    log = tmp_path / "daily.csv"
    write_daily_log(log)
    code = main(["benchmark-log", str(log), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    # 10 cases kept (the 2-event case dropped): 7 train, 1 validation, 2 test (3 and 4 events).
    assert result["cases"] == 10
    assert result["split_cases"] == {"train": 7, "validation": 1, "test": 2}
    assert result["test_prefixes"] == 1 + 2
    # Median remaining days per prefix length on the first 8 cases: 2.5 at length 2, 2 at length 3;
    # the test prefixes have 1, 2 and 1 days left.
    assert result["baseline_median_mae_days"] == pytest.approx((1.5 + 0.5 + 1.0) / 3)
    assert {"mae_days", "coverage_80", "median_ae_days"} <= set(result)
    assert result["lifecycle_rule"] == "no lifecycle on any event: every event kept"
    assert [c["name"] for c in result["selection"]["candidates"]] == [
        "baseline",
        "blend 0.25",
        "blend 0.50",
        "blend 0.75",
        "model",
    ]


def test_the_printed_result_says_the_lifecycle_rule_and_the_forecast_chosen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    log = tmp_path / "daily.csv"
    write_daily_log(log)
    text = log.read_text().splitlines()
    # every event twice: a start, then the same activity's end, written in other words than complete
    rows = [text[0] + ",lifecycle"] + [f"{line},{word}" for line in text[1:] for word in ("Begin", "DONE")]
    log.write_text("\n".join(rows) + "\n")
    assert main(["benchmark-log", str(log)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "  lifecycle: no 'complete' events: 'done' events kept (a word that ends an activity)"
    assert lines[3].startswith("  forecast chosen on the validation window: ")
    assert ", model " in lines[3] and lines[3].endswith(" days validation MAE)")


def test_too_small_a_log_is_a_clear_error(tmp_path: Path):
    log = tmp_path / "tiny.csv"
    write_daily_log(log, cases=1)
    with pytest.raises(ConfigError, match="too few cases with >= 3 events"):
        benchmark_log.benchmark_log(log)


def test_a_real_log_beats_the_trivial_baseline_on_a_subsample():
    result = benchmark_log.benchmark_log(
        SHARED_DATA / "helpdesk.xes.gz", max_cases=1500, forecaster_params={"max_iter": 60}
    )
    assert result["cases"] == 1500
    assert result["mae_days"] < result["baseline_median_mae_days"]
    assert result["dropped_columns"] == {}


def test_whole_case_attributes_of_a_real_log_are_dropped_by_the_general_rule():
    result = benchmark_log.benchmark_log(
        SHARED_DATA / "bpic2020_domestic_declarations.xes.gz", max_cases=1200, forecaster_params={"max_iter": 30}
    )
    assert set(result["dropped_columns"]) == {
        "event__(case)_DeclarationNumber",
        "event__(case)_id",
        "event__id",
        "case__variant",
        "case__variant-index",
        "case__id",
        "case__DeclarationNumber",
    }


def write_noise_log(path: Path, cases: int = 400, seed: int = 3) -> None:
    """Cases 6 h apart with 3-7 events, lognormal gaps, and attributes that say nothing about them."""
    rng = np.random.default_rng(seed)
    lines = ["case_id,activity,timestamp,team,code,score"]
    for i in range(cases):
        at = START + timedelta(hours=6 * i)
        team, code, score = rng.integers(0, 40), rng.integers(0, 25), rng.normal()
        for k in range(int(rng.integers(3, 8))):
            lines.append(f"c{i:04d},step {k % 3},{at:%Y-%m-%dT%H:%M:%S}Z,t{team},x{code},{score:.3f}")
            at += timedelta(seconds=int(rng.lognormal(10, 1.2)))
    path.write_text("\n".join(lines) + "\n")


def test_a_small_log_where_the_model_only_overfits_falls_back_to_the_median(tmp_path: Path):
    log = tmp_path / "noise.csv"
    write_noise_log(log)
    result = benchmark_log.benchmark_log(log)
    candidates = {c["name"]: c["validation_mae_days"] for c in result["selection"]["candidates"]}
    assert result["selection"]["chosen"] == "baseline"
    assert candidates["baseline"] == min(candidates.values())
    # the model alone would lose to the median on the test window; the forecast scored does not
    assert result["model_alone_mae_days"] > result["baseline_median_mae_days"]
    assert result["mae_days"] == pytest.approx(result["baseline_median_mae_days"], rel=1e-12)
