"""JourneyOps dashboard: `streamlit run app.py` (or `make run`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.data import current_store
from ui.navigation import build_navigation
from ui.session import gate, show_local_banner

st.set_page_config(page_title="JourneyOps", page_icon=":material/route:", layout="wide")
# Signed in (or local mode on localhost), else the sign-in / no-access screen alone, and a stop.
user = gate()
# Only the pages the role may see are routed at all: a forbidden page's address falls to the default.
navigation = st.navigation(build_navigation(user.role))
st.sidebar.caption(f"Store: `{Path(current_store()).name}`", help=f"Reading {current_store()}")
show_local_banner(user)
navigation.run()
