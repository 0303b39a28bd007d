"""Models: the registry, champion vs challenger, retrain in the background, promote and roll back."""

from __future__ import annotations

import streamlit as st

from core.errors import JourneyOpsError
from ui import data, layout
from ui import models as ui_models
from ui import monitoring as mon

st.title("Models")
st.caption("Every trained version with its holdout figures and quality gate; the champion serves the daily run.")
user = mon.guard_page("models")
store_path = data.current_store()
with layout.store_guard():
    version = data.store_version(store_path)
    view = ui_models.registry_view(store_path, version)

if st.button("Retrain", key="retrain_button", type="primary", icon=":material/model_training:",
             help="Train both models on everything stored, gate them against the champions, register them."):
    try:
        with layout.store_guard():
            ui_models.start_retrain(user, store_path)
    except JourneyOpsError as exc:
        st.error(str(exc), icon=":material/error:")
mon.job_progress(store_path, ui_models.RETRAIN_KEY, "Retrain finished: the new versions are listed below.")
if not view["versions"]:
    st.info("No model trained yet: press Retrain, or run `python -m core demo`.", icon=":material/inbox:")
    st.stop()

st.subheader("Versions")
layout.capped_table(ui_models.versions_table(view["versions"]))

kind = st.segmented_control("Model", ui_models.KINDS, default=ui_models.KINDS[0], key="models_kind") or "forecaster"
pair = view["pairs"][kind]
champion, challenger = pair["champion"], pair["challenger"]
st.subheader("Champion vs challenger")
st.caption(f"Champion: {champion['version_id'] if champion else 'none'} · "
           f"challenger: {challenger['version_id'] if challenger else 'none waiting'}")
st.dataframe(ui_models.side_by_side(champion, challenger), hide_index=True)
st.plotly_chart(ui_models.backtest_chart(champion, challenger))
with st.expander("Segment table of the backtests"):
    layout.capped_table(ui_models.segment_compare(champion, challenger).round(3))

st.subheader("Promote or roll back")
with st.form("registry_action"):
    action = st.radio("Action", ["promote the challenger", "roll back the champion"], key="registry_action_kind")
    reason = st.text_input("Reason (recorded in the audit log)", key="registry_reason")
    force = st.checkbox("Promote past a failed gate", key="registry_force")
    if st.form_submit_button("Apply"):
        try:
            with layout.store_guard():
                if action.startswith("promote") and challenger is not None:
                    ui_models.promote(user, challenger["version_id"], champion and champion["version_id"],
                                      reason, store_path, force=force)
                elif action.startswith("roll"):
                    ui_models.rollback(user, kind, reason, store_path)
                else:
                    raise JourneyOpsError("no challenger waits to be promoted")
            st.success(f"{action.capitalize()}: done.", icon=":material/check:")
            st.rerun()
        except JourneyOpsError as exc:
            st.error(str(exc), icon=":material/lock:")

st.subheader("Audit log")
layout.capped_table(ui_models.audit_table(view["audit"]))
