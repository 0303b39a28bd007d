delete from validity_reasons where as_of = $as_of
