-- The exceptions of a batch of orders files: rows to quarantine (with the reason) and rows already
-- known (duplicates); every other row of the batch loads.
create or replace temp table ingest_checked as
with
repeated_ids as (
    -- nearly every id is unique; the version logic below runs on the few that are not
    select order_id
    from ingest_batch
    where order_id is not null
    group by order_id
    having count(*) > 1
),
repeated as (
    select * from ingest_batch where order_id in (select order_id from repeated_ids)
),
file_versions as (
    select
        file_index,
        order_id,
        min(row_number) as first_row_number,
        count(distinct (placed_at, channel, region, customer_tier, category, order_value, items, payment_method, ship_mode, warehouse, carrier, promised_at)) > 1 as is_conflicting_in_file
    from repeated
    group by file_index, order_id
),
canonical_files as (
    -- the version that counts comes from the earliest file that agrees with itself
    select
        order_id,
        min(file_index) as file_index
    from file_versions
    where not is_conflicting_in_file
    group by order_id
),
canonical as (
    select
        r.order_id,
        r.file_index,
        r.row_number,
        r.placed_at,
        r.channel,
        r.region,
        r.customer_tier,
        r.category,
        r.order_value,
        r.items,
        r.payment_method,
        r.ship_mode,
        r.warehouse,
        r.carrier,
        r.promised_at
    from repeated as r
    inner join canonical_files as c on c.order_id = r.order_id and c.file_index = r.file_index
    inner join file_versions as v
        on v.order_id = r.order_id and v.file_index = r.file_index and v.first_row_number = r.row_number
),
repeated_flags as (
    select
        r.file_index,
        r.row_number,
        v.is_conflicting_in_file,
        c.order_id is not null
            and (c.placed_at, c.channel, c.region, c.customer_tier, c.category, c.order_value, c.items, c.payment_method, c.ship_mode, c.warehouse, c.carrier, c.promised_at) is distinct from (r.placed_at, r.channel, r.region, r.customer_tier, r.category, r.order_value, r.items, r.payment_method, r.ship_mode, r.warehouse, r.carrier, r.promised_at)
            as is_conflicting_with_earlier,
        c.order_id is null or c.file_index <> r.file_index or c.row_number <> r.row_number as is_repeat
    from repeated as r
    inner join file_versions as v on v.order_id = r.order_id and v.file_index = r.file_index
    left join canonical as c on c.order_id = r.order_id
),
row_checks as (
    select
        b.file_index,
        b.row_number,
        b.order_id,
        b.placed_at,
        b.channel,
        b.region,
        b.customer_tier,
        b.category,
        b.order_value,
        b.items,
        b.payment_method,
        b.ship_mode,
        b.warehouse,
        b.carrier,
        b.promised_at,
        case
            when b.order_id is null then 'missing order_id'
            when b.placed_at_bad then 'unparseable placed_at'
            when b.placed_at is null then 'missing placed_at'
            when b.placed_at > $latest_allowed_at then 'placed_at in the future'
            when b.placed_at < $earliest_allowed_at then 'placed_at implausibly old'
            when b.promised_at_bad then 'unparseable promised_at'
            when b.promised_at < $earliest_allowed_at then 'promised_at implausibly old'
            when regexp_matches(concat_ws('', b.order_id, b.channel, b.region, b.customer_tier, b.category, b.payment_method, b.ship_mode, b.warehouse, b.carrier), $control_characters)
                then 'control character in a text value'
            when greatest(length(b.order_id), length(b.channel), length(b.region), length(b.customer_tier), length(b.category), length(b.payment_method), length(b.ship_mode), length(b.warehouse), length(b.carrier)) > $max_text_chars
                then 'text value longer than ' || $max_text_chars || ' characters'
            when f.is_conflicting_in_file then 'order_id repeated in the file with different content'
            when s.order_id is not null
                and (s.placed_at, s.channel, s.region, s.customer_tier, s.category, s.order_value, s.items, s.payment_method, s.ship_mode, s.warehouse, s.carrier, s.promised_at) is distinct from (b.placed_at, b.channel, b.region, b.customer_tier, b.category, b.order_value, b.items, b.payment_method, b.ship_mode, b.warehouse, b.carrier, b.promised_at)
                then 'order_id already stored with different content'
            when f.is_conflicting_with_earlier then 'order_id already in an earlier file with different content'
        end as reason,
        s.order_id is not null or coalesce(f.is_repeat, false) as is_duplicate
    from ingest_batch as b
    left join repeated_flags as f on f.file_index = b.file_index and f.row_number = b.row_number
    left join orders as s on s.order_id = b.order_id
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
