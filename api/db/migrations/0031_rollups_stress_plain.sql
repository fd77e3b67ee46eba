-- requires: no-timescaledb
-- 0031 (plain PostgreSQL): daily_window_rollups gains mean_baevsky_si; mean_stress_index now averages
-- Kubios' stress index (0030). Same columns as the TimescaleDB twin 0031_rollups_stress_timescale.sql.

CREATE OR REPLACE VIEW daily_window_rollups AS
SELECT
    patient_id,
    date_bin(INTERVAL '1 day', window_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS day,
    count(*) AS n_windows,
    avg(ln_rmssd) AS mean_ln_rmssd,
    avg(mean_hr_bpm) AS mean_hr_bpm,
    min(mean_hr_bpm) AS min_hr_bpm,
    avg(stress_index) AS mean_stress_index,
    avg(artifact_share) AS mean_artifact_share,
    avg(baevsky_si) AS mean_baevsky_si
FROM hrv_windows
GROUP BY 1, 2;
