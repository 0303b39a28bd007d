-- Sort the rows of an imported log into load / duplicate / quarantine. Activities are free-form;
-- ids and timestamps are still checked. An event's id is a hash of its case, activity, timestamp,
-- lifecycle and the occurrence of that combination in the case, so a second import changes nothing.
create or replace temp table ingest_checked as
with
batch as (
    select * from ingest_batch
),
row_checks as (
    select
        *,
        case
            when case_id is null then 'missing case id'
            when activity is null then 'missing activity'
            when regexp_matches(concat_ws('', case_id, activity, lifecycle), $control_characters)
                then 'control character in a text value'
            when greatest(length(case_id), length(activity), length(lifecycle)) > $max_text_chars
                then 'text value longer than ' || $max_text_chars || ' characters'
            when event_ts_bad then 'unparseable timestamp'
            when event_ts is null then 'missing timestamp'
            when event_ts > $latest_allowed_at then 'timestamp in the future'
            when event_ts < $earliest_allowed_at then 'timestamp implausibly old'
        end as reason
    from batch
),
numbered as (
    select
        row_number,
        case_id,
        activity,
        event_ts,
        lifecycle,
        row_number() over (
            partition by case_id, activity, event_ts, lifecycle order by row_number
        ) as occurrence
    from row_checks
    where reason is null
),
identified as (
    select
        row_number,
        md5(concat_ws(
            chr(31),
            case_id,
            activity,
            strftime(event_ts, '%Y-%m-%dT%H:%M:%S.%f'),
            coalesce(lifecycle, ''),
            occurrence::varchar
        )) as event_id
    from numbered
),
final as (
    select
        0 as file_index,
        r.row_number,
        i.event_id,
        r.case_id as order_id,
        r.activity as stage,
        r.event_ts,
        r.attrs,
        r.reason,
        s.event_id is not null as is_duplicate
    from row_checks as r
    left join identified as i on i.row_number = r.row_number
    left join events as s on s.event_id = i.event_id
)
select * from final
