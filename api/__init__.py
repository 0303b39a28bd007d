"""The serving API (FastAPI): forecasts, the at-risk list and online scoring over HTTP.

A leaf: core never imports it."""
