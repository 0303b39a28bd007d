"""The at-risk list: `ranking` (expected cost, holdout, the stored list), `worklist` (the list and
an order's journey as the pages read them), `actions` (what a person did about an order) and
`export` (the list as a spreadsheet-safe file)."""
