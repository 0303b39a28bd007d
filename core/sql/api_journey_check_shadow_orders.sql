-- The stored orders the contract checks may compare a posted order with: none (the posted order
-- replaces its stored row, as in scoring).
create or replace temp table api_check_orders as
select *
from orders
limit 0
