-- Shadow the stored events for this connection only, so ingest_check_events.sql runs unchanged.
create or replace temp view events as
select * from api_check_events
