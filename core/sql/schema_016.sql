-- The level each tail's correction was estimated at (adaptive conformal inference: the p10's moves
-- within 2–20% by how often the served p10 missed, the p90's mirrors it). Rows of days before this
-- migration have none (NULL): their levels were not kept, and a rerun of `daily` for a day recomputes them.
alter table interval_calibration add column level_p10 double;
alter table interval_calibration add column level_p90 double;
