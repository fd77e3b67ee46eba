-- 0040: daily_values holds one value per day and its quality only. The 7-day rolling mean, the baseline,
-- the normal band and the CV depend on which day is "today" (a day counts only once it is over), so they
-- are computed on read from these rows (api/trend_view.py, analysis.trends), never stored stale.

ALTER TABLE daily_values
    DROP COLUMN rolling_mean_7d,
    DROP COLUMN baseline_mean,
    DROP COLUMN baseline_sd,
    DROP COLUMN band_low,
    DROP COLUMN band_high,
    DROP COLUMN cv_pct;
