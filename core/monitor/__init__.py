"""Monitoring building blocks the daily job calls: drift, feature validity and alerts.

`drift` compares a batch with the champion's reference sample (Evidently plus our own checks),
`validity` summarises a batch's data-contract results from the quarantine, and `alerts` turns the
day's results into stored alerts and an optional webhook post. Each returns plain dicts/DataFrames.
"""
