-- requires: timescaledb
-- 0031 (TimescaleDB): daily_window_rollups gains mean_baevsky_si; mean_stress_index now averages Kubios'
-- stress index (0030). A continuous aggregate cannot gain a column, so it is dropped and created again
-- with the same name, refresh policy and columns as the plain view of 0031_rollups_stress_plain.sql.
-- It starts empty (WITH NO DATA: a refresh cannot run inside the migration's transaction); the policy
-- fills the last 45 days, and `CALL refresh_continuous_aggregate('daily_window_rollups', NULL, NULL)`
-- fills older ones.

DROP MATERIALIZED VIEW daily_window_rollups;

CREATE MATERIALIZED VIEW daily_window_rollups WITH (timescaledb.continuous) AS
SELECT
    patient_id,
    time_bucket(INTERVAL '1 day', window_start) AS day,
    count(*) AS n_windows,
    avg(ln_rmssd) AS mean_ln_rmssd,
    avg(mean_hr_bpm) AS mean_hr_bpm,
    min(mean_hr_bpm) AS min_hr_bpm,
    avg(stress_index) AS mean_stress_index,
    avg(artifact_share) AS mean_artifact_share,
    avg(baevsky_si) AS mean_baevsky_si
FROM hrv_windows
GROUP BY patient_id, time_bucket(INTERVAL '1 day', window_start)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('daily_window_rollups',
    start_offset => INTERVAL '45 days', end_offset => NULL, schedule_interval => INTERVAL '10 minutes');
