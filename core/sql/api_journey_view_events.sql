-- Shadow the stored events for this connection only (temp objects are per connection), so the
-- feature SQL runs unchanged on the posted journey in its context.
create or replace temp view events as
select * from api_events
