-- The interval corrections a forecaster version served with on the latest day it was corrected,
-- one row per segment value ('*' is every order).
with days as (
    select max(as_of_date) as as_of_date
    from interval_calibration
    where forecaster_version = $version
),

final as (
    select
        c.as_of_date,
        c.segment,
        c.value,
        c.forecasts::bigint as forecasts,
        c.delivered::bigint as delivered,
        c.scale_p10,
        c.scale_p50,
        c.scale_p90,
        c.level_p10,
        c.level_p90
    from interval_calibration as c
    inner join days as d on c.as_of_date = d.as_of_date
    where c.forecaster_version = $version
)

select * from final
order by value = '*' desc, value
