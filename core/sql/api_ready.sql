-- Readiness: the tables the API reads exist and can be read.
with final as (
    select
        (select count(*) from predictions)::bigint as predictions,
        (select count(*) from triage_list)::bigint as triage_rows,
        (select count(*) from model_champions)::bigint as champions
)

select * from final
