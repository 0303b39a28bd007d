"""JourneyOps dashboard: `streamlit run app.py` (or `make run`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.data import current_store
from ui.navigation import build_navigation

st.set_page_config(page_title="JourneyOps", page_icon=":material/route:", layout="wide")
navigation = st.navigation(build_navigation())
st.sidebar.caption(f"Store: `{Path(current_store()).name}`", help=f"Reading {current_store()}")
navigation.run()
