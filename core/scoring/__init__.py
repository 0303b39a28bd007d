"""Answers from the served models: `batch` scores every open order for a day (champion and
challenger, reference samples, reasons for the list), `serving` answers online requests from stored
forecasts or the cached champions."""
