"""Operations: job runs and how long they take, failures, the store's size, and alerts to acknowledge."""

from __future__ import annotations

import streamlit as st

from core.access import roles
from core.access.roles import PermissionDeniedError
from core.errors import JourneyOpsError
from core.views.operations import format_bytes
from ui import data, drift_cell, layout
from ui import monitoring as mon

st.title("Operations")
st.caption("Daily runs, backfills, retrains and report jobs as recorded in the store, and what needs a look.")
user = mon.guard_page("operations")
store_path = data.current_store()
with layout.store_guard():
    version = data.store_version(store_path)
    view = mon.operations_view(store_path, version)
summary, size, open_alerts = view["summary"], view["size"], view["alerts"]

layout.kpi_row(
    [
        ("Job runs", layout.fmt_int(summary["runs"].sum()), "Every recorded run."),
        ("Failed", layout.fmt_int(summary["failed"].sum()), "Runs that ended with an error."),
        ("Running", layout.fmt_int(summary["running"].sum()), "Runs holding their kind's lock now."),
        ("Store", format_bytes(size["store_bytes"] + size["wal_bytes"]), "The DuckDB file and its log."),
        ("Models", format_bytes(size["models_bytes"]), "Model artifacts beside the store."),
        ("Open alerts", layout.fmt_int(len(open_alerts)), "Alerts nobody acknowledged yet."),
    ]
)

st.subheader("Jobs by kind")
layout.capped_table(summary.round(1))
st.subheader("Latest runs")
layout.capped_table(view["recent"].drop(columns=["params", "figures"]).round(1))

st.subheader("Alerts to acknowledge")
if open_alerts.empty:
    st.success("No open alerts.", icon=":material/check_circle:")
else:
    layout.capped_table(open_alerts[["as_of", "severity", "rule", "subject", "message"]])
    chosen = st.selectbox(
        "Alert",
        open_alerts["alert_id"],
        key="ack_alert",
        format_func=lambda a: open_alerts.set_index("alert_id").loc[a, "message"][:120],
    )
    alert = open_alerts.set_index("alert_id").loc[chosen]
    drift_cell.alert_link(alert["as_of"], str(alert["rule"]), str(alert["subject"]))
    if st.button("Acknowledge", key="ack_button", icon=":material/done:"):
        try:
            with layout.store_guard():
                mon.acknowledge_alert(user, chosen, store_path)
            st.rerun()
        except PermissionDeniedError as exc:
            st.error(str(exc), icon=":material/lock:")

if roles.can(user.role, "manage_tokens"):
    st.subheader("API tokens")
    with layout.store_guard():
        tokens = mon.api_tokens(user, store_path)
    layout.capped_table(tokens)
    active = tokens.loc[tokens["revoked_at"].isna(), "token_id"].tolist()
    if active:
        token_id = st.selectbox("Token to revoke", active, key="revoke_token")
        if st.button("Revoke", key="revoke_button", icon=":material/key_off:"):
            try:
                with layout.store_guard():
                    mon.revoke_api_token(user, str(token_id), store_path)
                st.rerun()
            except JourneyOpsError as exc:
                st.error(str(exc), icon=":material/lock:")
    st.caption("New tokens: `python -m core token create --role reader --name crm` (shown once).")

with st.expander("Activity: acknowledgements, exports, token revocations"), layout.store_guard():
    layout.capped_table(mon.activity_table(store_path))

with st.expander("Rows per table"):
    layout.capped_table(size["tables"])
