"""The loop recovers from drift: small closed-loop worlds with each drift scenario switched on a week
after go-live, judged over their matured mornings as the 100-day demo is (`core.monitor.recovery`).

Before the adaptive loop the new carrier's interval covered 63% in the first world and 62% of its
deliveries came after the p50. A demand surge is not recovered yet at this scale (coverage 70.9%,
up from 51%; 60.2% after the p50, down from 81%; measured 2026-12-05 on 8640f14) and is left out
until it is (docs/adaptive-loop.md). Each world takes one to
three minutes to build; they are built side by side."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from core.jobs import closed_loop
from core.monitor import recovery

END = date(2026, 12, 3)


WORLDS = (("new_carrier", 3), ("warehouse_outage", 3))


def _build(store: Path, scenario: str, seed: int) -> Path:
    closed_loop.build_demo_history(
        store,
        days=56,
        orders_per_day=120,
        seed=seed,
        scenario=scenario,
        pre_model_days=28,
        end=END,
        settings=closed_loop.demo_settings(),
        progress=False,
    )
    return store


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Path]:
    """Every world, built side by side in processes of their own: a build is mostly one core's work,
    and the machine has two."""
    stores = {w: tmp_path_factory.mktemp(f"{w[0]}-{w[1]}") / "journeyops.duckdb" for w in WORLDS}
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(WORLDS), mp_context=spawn) as pool:
        built = {w: pool.submit(_build, stores[w], *w) for w in WORLDS}
        return {w: future.result() for w, future in built.items()}


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "seed"), WORLDS)
def test_intervals_and_etas_recover_after_the_shift(worlds, scenario, seed):
    store = worlds[(scenario, seed)]
    report = recovery.recovery_report(store, weeks=3, hindsight=False)
    live = report["live"]
    assert len(report["matured_mornings"]) >= 8
    assert 72.0 <= live["coverage_80_pct"] <= 88.0, live
    assert 40.0 <= live["after_p50_pct"] <= 62.0, live
    for carrier, figures in report["carriers"].items():
        if figures["forecasts"] >= 200:
            assert figures["coverage_80_pct"] >= 70.0, (carrier, figures)
