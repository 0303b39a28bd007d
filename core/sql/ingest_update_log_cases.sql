-- A case already stored that now has an earlier event: its order was placed at that event.
update orders
set placed_at = earliest.placed_at
from (
    select
        order_id,
        min(event_ts) as placed_at
    from ingest_checked
    where reason is null and not is_duplicate
    group by order_id
) as earliest
where orders.order_id = earliest.order_id
    and (orders.placed_at is null or earliest.placed_at < orders.placed_at)
