-- The exceptions of a batch of events files: rows to quarantine (with the reason) and rows already
-- known (duplicates); every other row of the batch loads.
-- Stage order is judged by event_ts against the order's other events, stored or in this batch, so
-- the order in which files arrive does not change the result for a valid feed.
create or replace temp table ingest_checked as
with
id_hashes as (
    -- nearly every id is unique; the version logic below runs on the few that are not (a 64-bit
    -- hash of the text is much cheaper to compare; a rare collision only adds rows to check)
    select
        hash(event_id) as id_hash
    from ingest_batch
    where event_id is not null
),
repeated_hashes as (
    -- a repeated hash sits next to itself once sorted: cheaper than a hash table of millions of
    -- nearly unique keys
    select id_hash
    from (
        select
            id_hash,
            lag(id_hash) over (order by id_hash) as previous_hash
        from id_hashes
    )
    where id_hash = previous_hash
),
repeated as (
    select * from ingest_batch where hash(event_id) in (select id_hash from repeated_hashes)
),
file_versions as (
    select
        file_index,
        event_id,
        min(row_number) as first_row_number,
        count(distinct (order_id, stage, event_ts)) > 1 as is_conflicting_in_file
    from repeated
    group by file_index, event_id
),
canonical_files as (
    -- the version that counts comes from the earliest file that agrees with itself
    select
        event_id,
        min(file_index) as file_index
    from file_versions
    where not is_conflicting_in_file
    group by event_id
),
canonical as (
    select
        r.event_id,
        r.file_index,
        r.row_number,
        r.order_id,
        r.stage,
        r.event_ts
    from repeated as r
    inner join canonical_files as c on c.event_id = r.event_id and c.file_index = r.file_index
    inner join file_versions as v
        on v.event_id = r.event_id and v.file_index = r.file_index and v.first_row_number = r.row_number
),
repeated_flags as (
    select
        r.file_index,
        r.row_number,
        v.is_conflicting_in_file,
        c.event_id is not null
            and (c.order_id, c.stage, c.event_ts) is distinct from (r.order_id, r.stage, r.event_ts)
            as is_conflicting_with_earlier,
        c.event_id is null or c.file_index <> r.file_index or c.row_number <> r.row_number as is_repeat
    from repeated as r
    inner join file_versions as v on v.event_id = r.event_id and v.file_index = r.file_index
    left join canonical as c on c.event_id = r.event_id
),
row_checks as (
    select
        b.file_index,
        b.row_number,
        b.order_id,
        b.event_ts,
        list_position($ranked_stages, b.stage) as stage_rank,
        list_contains($terminal_stages, b.stage) as is_terminal,
        case
            when b.event_id is null then 'missing event_id'
            when b.order_id is null then 'missing order_id'
            when b.stage is null then 'missing stage'
            when regexp_matches(b.stage, $control_characters) then 'control character in a text value'
            when length(b.stage) > $max_text_chars then 'text value longer than ' || $max_text_chars || ' characters'
            when not list_contains($known_stages, b.stage) then 'unknown stage ''' || b.stage || ''''
            when b.event_ts_bad then 'unparseable event_ts'
            when b.event_ts is null then 'missing event_ts'
            when b.event_ts > $latest_allowed_at then 'event_ts in the future'
            when b.event_ts < $earliest_allowed_at then 'event_ts implausibly old'
            when regexp_matches(concat_ws('', b.event_id, b.order_id), $control_characters)
                then 'control character in a text value'
            when greatest(length(b.event_id), length(b.order_id)) > $max_text_chars
                then 'text value longer than ' || $max_text_chars || ' characters'
            when f.is_conflicting_in_file then 'event_id repeated in the file with different content'
            when s.event_id is not null
                and (s.order_id, s.stage, s.event_ts) is distinct from (b.order_id, b.stage, b.event_ts)
                then 'event_id already stored with different content'
            when f.is_conflicting_with_earlier then 'event_id already in an earlier file with different content'
        end as reason,
        s.event_id is not null or coalesce(f.is_repeat, false) as is_duplicate
    from ingest_batch as b
    left join repeated_flags as f on f.file_index = b.file_index and f.row_number = b.row_number
    left join events as s on s.event_id = b.event_id
),
candidates as not materialized (
    -- a filter over row_checks wherever it is used: no second copy of the batch
    select * from row_checks where reason is null and not is_duplicate
),
stored_events as (
    select
        e.order_id,
        e.event_ts,
        list_position($ranked_stages, e.stage) as stage_rank,
        case when list_contains($terminal_stages, e.stage) then 100 else list_position($ranked_stages, e.stage) end as progress_rank
    from events as e
    where e.order_id in (select order_id from candidates)
),
stored_conflicts as (
    -- Stored events are settled: a new event may not claim more progress than a stored event
    -- that happened after it, and a new terminal stage may not come before stored events.
    select
        c.file_index,
        c.row_number
    from candidates as c
    inner join stored_events as s on s.order_id = c.order_id and s.event_ts > c.event_ts
    where c.is_terminal or c.stage_rank > s.stage_rank
    group by c.file_index, c.row_number
),
timeline as (
    -- one number orders a journey: the stage's rank, or 100 for a terminal stage (nothing may follow)
    select
        c.file_index,
        c.row_number,
        c.order_id,
        c.event_ts,
        case when c.is_terminal then 100 else c.stage_rank end as progress_rank,
        false as is_stored
    from candidates as c
    anti join stored_conflicts as x on x.file_index = c.file_index and x.row_number = c.row_number
    union all
    select
        null,
        null,
        s.order_id,
        s.event_ts,
        s.progress_rank,
        true as is_stored
    from stored_events as s
),
history as (
    -- Ties in time are sorted by progress, so "a row before with more progress" means strictly
    -- earlier in time, and equal timestamps never count as out of order.
    select
        file_index,
        row_number,
        is_stored,
        progress_rank,
        max(progress_rank) over (
            partition by order_id order by event_ts, progress_rank
            rows between unbounded preceding and 1 preceding
        ) as progress_before
    from timeline
),
order_problems as (
    select
        file_index,
        row_number,
        case
            when progress_before >= 100 then ''' after the order was delivered or cancelled'
            when progress_rank < progress_before then ''' out of order: a later stage came earlier'
        end as problem
    from history
    where not is_stored
    union all
    select
        file_index,
        row_number,
        ''' out of order: a stored event comes later' as problem
    from stored_conflicts
),
order_checks as (
    -- the stage's name is joined back only for the few rows with a problem
    select
        p.file_index,
        p.row_number,
        'stage ''' || b.stage || p.problem as reason
    from order_problems as p
    inner join ingest_batch as b on b.file_index = p.file_index and b.row_number = p.row_number
    where p.problem is not null
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
    union all
    select
        file_index,
        row_number,
        reason,
        false as is_duplicate
    from order_checks
)
select * from final
