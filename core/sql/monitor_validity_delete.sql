delete from validity_batches where as_of = $as_of
