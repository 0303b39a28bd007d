"""Models: the registry; champion vs challenger on the same rows (at retrain and live in shadow), their
ages and windows, the champion's interval corrections; retrain in the background, promote and roll back."""

from __future__ import annotations

import streamlit as st

from core.errors import JourneyOpsError
from ui import data, display, layout
from ui import models as ui_models
from ui import monitoring as mon

st.title("Models")
st.caption("Every trained version with its holdout figures and quality gate; the champion serves the daily run.")
user = mon.guard_page("models")
store_path = data.current_store()
with layout.store_guard():
    version = data.store_version(store_path)
    view = ui_models.registry_view(store_path, version)

if st.button(
    "Retrain",
    key="retrain_button",
    type="primary",
    icon=":material/model_training:",
    help="Train both models on everything stored, gate them against the champions, register them.",
):
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
st.caption(
    f"Champion: {champion['version_id'] if champion else 'none'} · "
    f"challenger: {challenger['version_id'] if challenger else 'none waiting'}"
)
with layout.store_guard():
    compared = ui_models.comparison_view(
        store_path, version, kind, champion and champion["version_id"], challenger and challenger["version_id"]
    )
display.show_table(ui_models.cards_table(compared["cards"]), column_config=ui_models.CARD_COLUMNS)
st.caption(f"Data age as of {compared['at']:%d %b %Y %H:%M} (UTC), {compared['at_label']}.")
st.markdown("**On the same rows, at retrain**")
gate = compared["gate"]
display.show_table(ui_models.gate_table(gate), column_config=ui_models.FIGURE_COLUMN_CONFIG)
st.caption(ui_models.gate_caption(gate, judged_is_champion=challenger is None))
st.markdown("**Live, in shadow**")
display.show_table(ui_models.shadow_table(compared["shadow"]), column_config=ui_models.FIGURE_COLUMN_CONFIG)
st.caption(ui_models.shadow_caption(compared["shadow"]))
with st.expander("Cost per segment on the same rows"):
    st.plotly_chart(ui_models.segment_chart(gate))
    layout.capped_table(ui_models.segment_compare(gate), column_config=ui_models.SEGMENT_COLUMNS)
if kind == "forecaster" and champion is not None:
    st.markdown("**The champion's interval corrections**")
    corrections = compared["corrections"]
    if not corrections.empty:
        display.show_table(ui_models.corrections_table(corrections), column_config=ui_models.CORRECTION_COLUMNS)
    st.caption(ui_models.corrections_caption(corrections))

st.subheader("Promote or roll back")
with st.form("registry_action"):
    action = st.radio("Action", ["promote the challenger", "roll back the champion"], key="registry_action_kind")
    reason = st.text_input("Reason (recorded in the audit log)", key="registry_reason")
    force = st.checkbox("Promote past a failed gate", key="registry_force")
    if st.form_submit_button("Apply"):
        try:
            with layout.store_guard():
                if action.startswith("promote") and challenger is not None:
                    ui_models.promote(
                        user,
                        challenger["version_id"],
                        champion and champion["version_id"],
                        reason,
                        store_path,
                        force=force,
                    )
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
