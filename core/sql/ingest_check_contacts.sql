-- The exceptions of a batch of contacts files: rows to quarantine (with the reason) and rows already
-- known (duplicates); every other row of the batch loads.
create or replace temp table ingest_checked as
with
repeated_ids as (
    -- nearly every id is unique; the version logic below runs on the few that are not
    select contact_id
    from ingest_batch
    where contact_id is not null
    group by contact_id
    having count(*) > 1
),
repeated as (
    select * from ingest_batch where contact_id in (select contact_id from repeated_ids)
),
file_versions as (
    select
        file_index,
        contact_id,
        min(row_number) as first_row_number,
        count(distinct (order_id, contact_at, reason)) > 1 as is_conflicting_in_file
    from repeated
    group by file_index, contact_id
),
canonical_files as (
    -- the version that counts comes from the earliest file that agrees with itself
    select
        contact_id,
        min(file_index) as file_index
    from file_versions
    where not is_conflicting_in_file
    group by contact_id
),
canonical as (
    select
        r.contact_id,
        r.file_index,
        r.row_number,
        r.order_id,
        r.contact_at,
        r.reason
    from repeated as r
    inner join canonical_files as c on c.contact_id = r.contact_id and c.file_index = r.file_index
    inner join file_versions as v
        on v.contact_id = r.contact_id and v.file_index = r.file_index and v.first_row_number = r.row_number
),
repeated_flags as (
    select
        r.file_index,
        r.row_number,
        v.is_conflicting_in_file,
        c.contact_id is not null
            and (c.order_id, c.contact_at, c.reason) is distinct from (r.order_id, r.contact_at, r.reason)
            as is_conflicting_with_earlier,
        c.contact_id is null or c.file_index <> r.file_index or c.row_number <> r.row_number as is_repeat
    from repeated as r
    inner join file_versions as v on v.contact_id = r.contact_id and v.file_index = r.file_index
    left join canonical as c on c.contact_id = r.contact_id
),
row_checks as (
    select
        b.file_index,
        b.row_number,
        b.contact_id,
        b.order_id,
        b.contact_at,
        b.reason as contact_reason,
        case
            when b.contact_id is null then 'missing contact_id'
            when b.order_id is null then 'missing order_id'
            when b.contact_at_bad then 'unparseable contact_at'
            when b.contact_at is null then 'missing contact_at'
            when b.contact_at > $latest_allowed_at then 'contact_at in the future'
            when b.contact_at < $earliest_allowed_at then 'contact_at implausibly old'
            when regexp_matches(concat_ws('', b.contact_id, b.order_id, b.reason), $control_characters)
                then 'control character in a text value'
            when greatest(length(b.contact_id), length(b.order_id), length(b.reason)) > $max_text_chars
                then 'text value longer than ' || $max_text_chars || ' characters'
            when f.is_conflicting_in_file then 'contact_id repeated in the file with different content'
            when s.contact_id is not null
                and (s.order_id, s.contact_at, s.reason) is distinct from (b.order_id, b.contact_at, b.reason)
                then 'contact_id already stored with different content'
            when f.is_conflicting_with_earlier then 'contact_id already in an earlier file with different content'
        end as reason,
        s.contact_id is not null or coalesce(f.is_repeat, false) as is_duplicate
    from ingest_batch as b
    left join repeated_flags as f on f.file_index = b.file_index and f.row_number = b.row_number
    left join contacts as s on s.contact_id = b.contact_id
),
final as (
    -- only the exceptions are kept: rows to quarantine and rows already known; the rest load
    select
        file_index,
        row_number,
        reason,
        is_duplicate and reason is null as is_duplicate
    from row_checks
    where reason is not null or is_duplicate
)
select * from final
