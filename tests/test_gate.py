from __future__ import annotations

import json

import pytest

from core.errors import ConfigError
from core.registry.gate import GateInputError, GatePolicy, evaluate_gate, load_gate_policy

POLICY = GatePolicy(margin=0.02, segment_tolerance=0.10, min_segment_n=30)


def evaluation(cost, n=1000, segments=None, kind="forecaster"):
    return {"kind": kind, "n": n, "business_cost": cost, "metrics": {}, "segments": segments or {}}


def carriers(**by_value):
    """Segments over carrier only: value=(n, cost)."""
    return {"carrier": {v: {"n": n, "business_cost": c} for v, (n, c) in by_value.items()}}


def test_without_a_champion_only_the_baseline_applies():
    decision = evaluate_gate(evaluation(9.0), None, evaluation(10.0), POLICY)
    assert decision.passed is True
    assert decision.reasons == [
        "same rows: ok — challenger n=1000",
        "baseline: ok — challenger cost 9.0000 < baseline cost 10.0000",
        "champion: none yet — only the baseline check applies",
    ]
    assert decision.checks["champion"] is None
    assert set(decision.checks) == {"same_holdout", "baseline", "champion"}


@pytest.mark.parametrize(("cost", "passed"), [(9.99, True), (10.0, False), (10.01, False)])
def test_the_baseline_must_be_beaten_strictly(cost, passed):
    decision = evaluate_gate(evaluation(cost), None, evaluation(10.0), POLICY)
    assert decision.passed is passed
    assert decision.checks["baseline"] == {"passed": passed, "challenger_cost": cost, "baseline_cost": 10.0}


def test_worse_than_baseline_fails_even_when_it_beats_the_champion():
    decision = evaluate_gate(evaluation(12.0), evaluation(20.0), evaluation(11.0), POLICY)
    assert decision.passed is False
    assert decision.checks["margin"]["passed"] is True
    assert decision.checks["baseline"]["passed"] is False
    assert "baseline: FAILED — challenger cost 12.0000 >= baseline cost 11.0000" in decision.reasons
    assert decision.action == "rejected"


@pytest.mark.parametrize(
    ("cost", "passed"),
    [
        (98.0, True),  # exactly 2% cheaper
        (97.99, True),  # just inside
        (98.01, False),  # just outside
        (100.0, False),  # equal
    ],
)
def test_margin_over_the_champion(cost, passed):
    decision = evaluate_gate(evaluation(cost), evaluation(100.0), evaluation(200.0), POLICY)
    assert decision.passed is passed
    assert decision.checks["margin"]["passed"] is passed
    assert decision.checks["margin"]["required_cost"] == pytest.approx(98.0)


def test_exactly_at_the_margin_is_not_decided_by_float_rounding():
    # 3.3 * (1 - 0.1) is 2.9699999999999998 in binary floating point, just below 2.97
    assert 3.3 * (1 - 0.1) < 2.97
    policy = GatePolicy(margin=0.1, segment_tolerance=0.1, min_segment_n=30)
    decision = evaluate_gate(evaluation(2.97), evaluation(3.3), evaluation(10.0), policy)
    assert decision.checks["margin"]["passed"] is True


def test_margin_reason_says_the_figures():
    decision = evaluate_gate(evaluation(99.0), evaluation(100.0), evaluation(200.0), POLICY)
    assert decision.reasons[2] == (
        "margin: FAILED — challenger cost 99.0000 vs champion 100.0000 "
        "(+1.00% cheaper; needs >= 2.00%, i.e. cost <= 98.0000)"
    )
    assert decision.checks["margin"]["improvement"] == pytest.approx(0.01)


def test_a_segment_regression_beyond_tolerance_fails():
    champion = evaluation(100.0, segments=carriers(dhl=(300, 10.0), ups=(700, 20.0)))
    challenger = evaluation(90.0, segments=carriers(dhl=(300, 11.5), ups=(700, 15.0)))
    decision = evaluate_gate(challenger, champion, evaluation(200.0), POLICY)
    assert decision.passed is False
    assert decision.checks["margin"]["passed"] is True
    segments = decision.checks["segments"]
    assert segments["passed"] is False
    assert segments["compared"] == 2
    assert segments["regressions"] == [
        {
            "segment": "carrier",
            "value": "dhl",
            "n": 300,
            "challenger_cost": 11.5,
            "champion_cost": 10.0,
            "change": pytest.approx(0.15),
        },
    ]
    assert decision.reasons[3] == (
        "segments: FAILED — 1 segment(s) worse by more than 10% tolerance: "
        "carrier=dhl 11.5000 vs 10.0000 (+15.0%, n=300); 2 compared, 0 ignored "
        "(n < 30 or absent under the champion)"
    )


@pytest.mark.parametrize(("cost", "passed"), [(11.0, True), (10.99, True), (11.01, False)])
def test_segment_tolerance_edges(cost, passed):
    champion = evaluation(100.0, segments=carriers(dhl=(300, 10.0)))
    challenger = evaluation(90.0, segments=carriers(dhl=(300, cost)))
    decision = evaluate_gate(challenger, champion, evaluation(200.0), POLICY)
    assert decision.checks["segments"]["passed"] is passed
    assert decision.passed is passed


def test_small_and_new_segments_are_ignored():
    champion = evaluation(
        100.0,
        segments={
            **carriers(dhl=(300, 10.0), tiny=(29, 1.0)),
            "region": {"north": {"n": 500, "business_cost": 8.0}},
        },
    )
    challenger = evaluation(
        90.0,
        segments={
            **carriers(dhl=(300, 10.5), tiny=(29, 50.0), new_carrier=(400, 99.0)),
            "region": {"north": {"n": 500, "business_cost": 7.0}},
        },
    )
    decision = evaluate_gate(challenger, champion, evaluation(200.0), POLICY)
    assert decision.passed is True
    segments = decision.checks["segments"]
    assert (segments["compared"], segments["ignored"]) == (2, 2)
    assert segments["worst"]["value"] == "dhl"
    assert decision.reasons[3] == (
        "segments: ok — worst carrier=dhl +5.0% (within 10% tolerance, n=300); "
        "2 compared, 2 ignored (n < 30 or absent under the champion)"
    )


def test_a_segment_that_cost_nothing_under_the_champion_regresses_on_any_cost():
    champion = evaluation(100.0, segments=carriers(dhl=(300, 0.0)))
    challenger = evaluation(90.0, segments=carriers(dhl=(300, 0.5)))
    decision = evaluate_gate(challenger, champion, evaluation(200.0), POLICY)
    assert decision.passed is False
    assert decision.checks["segments"]["regressions"][0]["change"] is None
    assert "carrier=dhl 0.5000 vs 0.0000 (from zero, n=300)" in decision.reasons[3]


def test_evaluations_on_different_holdouts_fail():
    decision = evaluate_gate(evaluation(90.0, n=1000), evaluation(100.0, n=900), evaluation(200.0), POLICY)
    assert decision.passed is False
    assert decision.checks["same_holdout"] == {
        "passed": False,
        "challenger_n": 1000,
        "rows": "n=1000",
        "mismatched": {"champion": "n=900"},
    }
    assert decision.reasons[0] == "same rows: FAILED — challenger n=1000, champion n=900"
    relaxed = GatePolicy(require_same_holdout=False)
    assert evaluate_gate(evaluation(90.0, n=1000), evaluation(100.0, n=900), evaluation(200.0), relaxed).passed


def test_action_follows_auto_promotion():
    good = (evaluation(90.0), evaluation(100.0), evaluation(200.0))
    assert evaluate_gate(*good, GatePolicy(auto_promote=True)).action == "promote"
    assert evaluate_gate(*good, GatePolicy(auto_promote=False)).action == "pending_approval"
    bad = (evaluation(99.0), evaluation(100.0), evaluation(200.0))
    # A forecaster that lost on the margin alone waits in shadow for its live verdict; a classifier
    # (no live comparison) or a final live verdict is rejected.
    assert evaluate_gate(*bad, GatePolicy(auto_promote=True)).action == "candidate"
    assert evaluate_gate(*bad, GatePolicy(auto_promote=True), live=True).action == "rejected"
    bad_classifier = [{**e, "kind": "stuck_classifier"} for e in bad]
    assert evaluate_gate(*bad_classifier, GatePolicy(auto_promote=True)).action == "rejected"


def test_decision_is_json_able():
    champion = evaluation(100.0, segments=carriers(dhl=(300, 0.0)))
    challenger = evaluation(90.0, segments=carriers(dhl=(300, 0.5)))
    payload = evaluate_gate(challenger, champion, evaluation(200.0), POLICY).to_dict()
    assert json.loads(json.dumps(payload, allow_nan=False))["action"] == "rejected"


def test_malformed_evaluations_are_refused():
    with pytest.raises(GateInputError, match="the champion evaluation is for 'stuck_classifier'"):
        evaluate_gate(evaluation(1.0), evaluation(2.0, kind="stuck_classifier"), evaluation(3.0), POLICY)
    with pytest.raises(GateInputError, match="the baseline evaluation lacks business_cost"):
        evaluate_gate(evaluation(1.0), None, {"kind": "forecaster", "n": 1000}, POLICY)


def test_policy_from_environment_and_validation(monkeypatch):
    monkeypatch.setenv("JOURNEYOPS_GATE_MARGIN", "0.05")
    monkeypatch.setenv("JOURNEYOPS_GATE_SEGMENT_TOLERANCE", "0.2")
    monkeypatch.setenv("JOURNEYOPS_GATE_MIN_SEGMENT_N", "50")
    monkeypatch.setenv("JOURNEYOPS_AUTO_PROMOTE", "true")
    assert load_gate_policy() == GatePolicy(margin=0.05, segment_tolerance=0.2, min_segment_n=50, auto_promote=True)
    monkeypatch.setenv("JOURNEYOPS_GATE_MARGIN", "two percent")
    with pytest.raises(ConfigError, match="invalid gate setting"):
        load_gate_policy()
    with pytest.raises(ConfigError, match=r"gate margin must be in \[0, 1\), got 1.5"):
        GatePolicy(margin=1.5)


def test_the_same_count_of_other_rows_fails():
    # Equal n is not the same rows: the hash of the scored (order, instant) pairs decides.
    challenger, champion, baseline = evaluation(90.0), evaluation(100.0), evaluation(200.0)
    challenger, baseline = {**challenger, "rows_hash": "a" * 64}, {**baseline, "rows_hash": "a" * 64}
    champion = {**champion, "rows_hash": "b" * 64}
    decision = evaluate_gate(challenger, champion, baseline, POLICY)
    assert decision.passed is False and decision.action == "rejected"
    assert (
        decision.reasons[0]
        == "same rows: FAILED — challenger n=1000 (rows aaaaaaaaaaaa), champion n=1000 (rows bbbbbbbbbbbb)"
    )
    same = evaluate_gate(challenger, {**champion, "rows_hash": "a" * 64}, baseline, POLICY)
    assert same.passed is True


def test_a_margin_loss_keeps_a_forecaster_in_shadow_and_a_decayed_champion_lowers_the_bar():
    challenger, champion, baseline = evaluation(99.0), evaluation(100.0), evaluation(200.0)
    held = evaluate_gate(challenger, champion, baseline, POLICY)
    assert held.passed is False and held.awaiting_live is True and held.action == "candidate"
    decayed = evaluate_gate(challenger, champion, baseline, POLICY, champion_decayed=True)
    assert decayed.passed is True and decayed.checks["margin"]["champion_decayed"] is True
    worse = evaluate_gate(evaluation(101.0), champion, baseline, POLICY, champion_decayed=True)
    assert worse.passed is False
    live = evaluate_gate(challenger, champion, None, POLICY, live=True)
    assert live.action == "rejected" and live.checks["baseline"] is None


def test_after_decay_a_holdout_loss_to_the_baseline_goes_to_shadow_but_other_rows_do_not():
    # Under a surge every fit on the holdout loses to the median; only live forecasts can judge the
    # fresh deployed fit. Before decay the same loss rejects it.
    challenger, champion, baseline = evaluation(120.0), evaluation(118.0), evaluation(100.0)
    assert evaluate_gate(challenger, champion, baseline, POLICY).action == "rejected"
    decayed = evaluate_gate(challenger, champion, baseline, POLICY, champion_decayed=True)
    assert decayed.action == "candidate" and decayed.reasons[-1].startswith("verdict: kept as a candidate")
    assert {n for n, c in decayed.checks.items() if c and not c["passed"]} == {"baseline", "margin"}
    classifier = [{**e, "kind": "stuck_classifier"} for e in (challenger, champion, baseline)]
    assert evaluate_gate(*classifier, POLICY, champion_decayed=True).action == "rejected"
    elsewhere = {**challenger, "rows_hash": "c" * 64}
    assert evaluate_gate(elsewhere, champion, baseline, POLICY, champion_decayed=True).action == "rejected"
