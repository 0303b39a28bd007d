"""Getting data into the store under the data contract: `landing` reads landing files and imported
event logs (CSV/Parquet), checks them, quarantines bad rows and records every file; `xes` reads XES
event logs."""
