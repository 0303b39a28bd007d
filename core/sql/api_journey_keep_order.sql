-- Only the posted order is scored; the other open orders were needed only as its context.
delete from feat_prefixes
where order_id <> $order_id
