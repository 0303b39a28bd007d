-- Keep a deterministic sample of the prefixes (a hash of order and instant), to cap training rows.
delete from feat_prefixes
where (hash(order_id, as_of_at) % 1000000) >= $keep_per_million
