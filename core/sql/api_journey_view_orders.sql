-- Shadow the stored orders for this connection only, like api_journey_view_events.
create or replace temp view orders as
select * from api_orders
