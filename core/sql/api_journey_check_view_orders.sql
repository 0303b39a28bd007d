-- Shadow the stored orders for this connection only, so ingest_check_orders.sql runs unchanged.
create or replace temp view orders as
select * from api_check_orders
