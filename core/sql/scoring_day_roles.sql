-- The serving roles that scored one day.
select distinct role
from predictions
where as_of_date = $as_of_date
order by role
