-- One row that changes whenever anything the materialised page views read changes: a new event,
-- order, contact, day, score, list, action, shown ETA, alert (raised or acknowledged), assumption
-- edit or champion.
-- Counts come from table metadata; the max() reads are single-column scans.
with
events_state as (
    select
        count(*)::bigint as events,
        max(event_ts) as events_max_ts,
        max(loaded_at) as events_loaded_at
    from events
),

orders_state as (
    select
        count(*)::bigint as orders,
        max(loaded_at) as orders_loaded_at
    from orders
),

contacts_state as (
    select
        count(*)::bigint as contacts,
        max(loaded_at) as contacts_loaded_at
    from contacts
),

predictions_state as (
    select
        count(*)::bigint as predictions,
        max(scored_at) as predictions_scored_at
    from predictions
),

triage_list_state as (
    select
        count(*)::bigint as listed,
        max(created_at) as listed_created_at
    from triage_list
),

triage_actions_state as (
    select
        count(*)::bigint as actions,
        max(acted_at) as actions_acted_at,
        max(action_id) as actions_max_id
    from triage_actions
),

eta_shown_state as (
    select
        count(*)::bigint as etas_shown,
        max(shown_from) as etas_shown_from
    from eta_shown
),

daily_summary_state as (
    select
        count(*)::bigint as summaries,
        max(as_of_date) as summaries_as_of,
        max(as_of_at) as summaries_as_of_at,
        -- a re-run of a day rewrites its rows: the wall-clock stamp tells it apart
        max(computed_at) as summaries_computed_at
    from daily_summary
),

assumptions_state as (
    select
        count(*)::bigint as assumption_rows,
        max(saved_at) as assumptions_saved_at,
        max(revision) as assumptions_revision
    from assumptions_history
),

alerts_state as (
    select
        count(*)::bigint as alerts,
        max(updated_at) as alerts_updated_at,
        count(*) filter (where status = 'open' and resolved_on is null)::bigint as alerts_open
    from alerts
),

champions_state as (
    select
        count(*)::bigint as champions,
        string_agg(kind || '=' || version_id || '@' || since_at::varchar, ',' order by kind) as champions_now
    from model_champions
),

final as (
    select *
    from events_state
    cross join orders_state
    cross join contacts_state
    cross join predictions_state
    cross join triage_list_state
    cross join triage_actions_state
    cross join eta_shown_state
    cross join daily_summary_state
    cross join assumptions_state
    cross join alerts_state
    cross join champions_state
)

select * from final
