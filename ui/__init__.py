"""Streamlit-only helpers for the pages: cached reads, widgets, charts and navigation."""
