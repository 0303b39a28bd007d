"""Benefits: what the product realised per week against its targets, and triage against the holdout."""

from __future__ import annotations

import streamlit as st

from core.access.roles import PermissionDeniedError
from core.monitor import benefit_figures
from ui import charts, data, layout, monitor_charts
from ui import monitoring as mon

st.title("Benefits")
st.caption(
    "The weekly ledger against the pre-model baseline and the targets, and orders shown to triage against "
    "the randomly held-out ones (bootstrap 95% intervals). Money uses the current assumptions below."
)
user = mon.guard_page("benefits")
store_path = data.current_store()
with layout.store_guard():
    as_of, version = mon.as_of_day(store_path)
    view = mon.benefits_view(store_path, version, as_of)
    costs, targets = mon.settings_now(store_path)
ledger, holdout = view["ledger"], view["holdout"]
if ledger.empty:
    mon.no_daily_data("a benefit ledger")
if view["go_live"] is None:
    st.info(mon.NO_GO_LIVE_NOTE, icon=":material/schedule:")

st.markdown(f"**{benefit_figures.headline_sentence(ledger)}**")
money = benefit_figures.headline_figures(ledger, holdout)
realised, triage = money["realised_value_eur"], money["triage_value_eur"]
layout.kpi_row(
    [
        (
            "Go-live",
            f"{view['go_live']:%d %b %Y}" if view["go_live"] else "—",
            "The first day a model ETA was shown or a list drawn.",
        ),
        ("Live weeks", layout.fmt_int(ledger.loc[ledger["period"] == "live", "week_start"].nunique()), "ISO weeks."),
        (
            "Realised value",
            benefit_figures.eur(realised.value_eur),
            "Live weeks' money against the baseline plus the triage value; the interval is the triage part's.",
            realised.detail,
        ),
        (
            "Triage value",
            benefit_figures.eur(triage.value_eur),
            "Treated vs held out over all live weeks, in money (bootstrap 95% interval).",
            triage.detail,
        ),
    ]
)

st.subheader("Ledger by week")
layout.capped_table(mon.ledger_pivot(ledger).round(2))
st.caption(
    "One column per ISO week; the target sits beside each figure (blank: none set). Against the pre-model "
    "baseline this is a before/after comparison, **not causal**: season, volume and the feed change too. "
    "Only *Treated vs held out* below measures what the list caused."
)
target_chart = charts.targets_chart(ledger)
if target_chart is not None:
    st.plotly_chart(target_chart, key="benefits_targets")
weekly_money = benefit_figures.weekly_money(ledger)
if len(weekly_money):
    st.subheader("Money by week, with 95% intervals")
    layout.capped_table(weekly_money[["iso_week", "metric", "shown"]])

st.subheader("Treated vs held out")
if holdout.empty:
    st.info("No held-out orders yet: the triage list holds a random share out from go-live on.")
else:
    st.plotly_chart(monitor_charts.holdout_chart(holdout))
    layout.capped_table(holdout.loc[holdout["iso_week"] == "all"].round(3))

st.subheader("Assumptions and targets")
with st.form("benefit_settings"):
    left, right = st.columns(2)
    new_costs = {k: left.number_input(k.replace("_", " "), value=float(v), key=f"cost_{k}") for k, v in costs.items()}
    new_targets = {
        k: right.number_input(
            k.replace("_", " ") + " (target)", value=None if v is None else float(v), key=f"target_{k}"
        )
        for k, v in targets.items()
    }
    reason = st.text_input("Why the change", key="settings_reason")
    if st.form_submit_button("Save a new revision", icon=":material/save:"):
        try:
            with layout.store_guard():
                mon.save_benefit_settings(user, new_costs, new_targets, reason, store_path)
            st.success("Saved; every figure above is re-valued with it.", icon=":material/check:")
        except PermissionDeniedError as exc:
            st.error(str(exc), icon=":material/lock:")
        except ValueError as exc:
            st.error(str(exc))
with st.expander("History of the assumptions"):
    layout.capped_table(view["history"])
