"""Getting data into the store under the data contract: `contract` says what a landing file must
hold (kinds, columns, types, the timestamp rule) and how a file breaks it; `readers` reads CSV and
Parquet files and `columns` types their columns; `checked` writes what a checked batch leaves
(quarantined rows, counts, the files-seen record); `batches` checks and loads landing files of one
kind in one transaction; `landing` finds landing files in folders and loads them (`ingest_paths`);
`log_import` imports real event logs (XES/CSV/Parquet), read by `xes` when they are XES; `summary`
tells a person what a load did."""
