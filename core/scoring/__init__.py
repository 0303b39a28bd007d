"""Answers from the served models: `batch` scores every open order for a day (champion and
challenger, reference samples, reasons for the list), `calibration` corrects the intervals from
served forecasts, `forecasts` reads the stored forecasts and the day's list for the API, and
`serving` answers online requests with the cached champions."""
