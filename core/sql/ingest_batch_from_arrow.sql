-- Files typed by the Arrow path (CSV, or Parquet whose columns need converting) join the batch.
insert into ingest_batch by name
select * from ingest_arrow_batch
