-- requires: no-timescaledb
-- 0002 (plain PostgreSQL): the daily roll-ups as ordinary views with the same names and columns as the
-- TimescaleDB continuous aggregates of 0002_timescale.sql (UTC days).

CREATE VIEW daily_beat_rollups AS
SELECT
    patient_id,
    date_bin(INTERVAL '1 day', t, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS day,
    count(*) AS n_beats,
    avg(rr_ms) AS mean_rr_ms,
    sum(rr_ms) / 3600000.0 AS wear_hours,
    min(t) AS first_beat,
    max(t) AS last_beat
FROM beats
GROUP BY 1, 2;

CREATE VIEW daily_window_rollups AS
SELECT
    patient_id,
    date_bin(INTERVAL '1 day', window_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS day,
    count(*) AS n_windows,
    avg(ln_rmssd) AS mean_ln_rmssd,
    avg(mean_hr_bpm) AS mean_hr_bpm,
    min(mean_hr_bpm) AS min_hr_bpm,
    avg(stress_index) AS mean_stress_index,
    avg(artifact_share) AS mean_artifact_share
FROM hrv_windows
GROUP BY 1, 2;
