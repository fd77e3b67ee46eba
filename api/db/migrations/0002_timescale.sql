-- requires: timescaledb
-- 0002 (TimescaleDB present): hypertables, compression segmented by patient, continuous daily roll-ups.
-- The plain-PostgreSQL twin is 0002_plain_rollups.sql: same relation names and columns.

CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT create_hypertable('beats', by_range('t', INTERVAL '7 days'), migrate_data => true);
SELECT create_hypertable('hrv_windows', by_range('window_start', INTERVAL '30 days'), migrate_data => true);

-- Compression: segments per patient (and device, which the beats' unique key needs), ordered by time.
ALTER TABLE beats SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'patient_id, device_id',
    timescaledb.compress_orderby = 't'
);
SELECT add_compression_policy('beats', compress_after => INTERVAL '14 days');

ALTER TABLE hrv_windows SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'patient_id',
    timescaledb.compress_orderby = 'window_start'
);
SELECT add_compression_policy('hrv_windows', compress_after => INTERVAL '90 days');

-- Daily roll-ups (UTC days) as continuous aggregates, refreshed by policy.
CREATE MATERIALIZED VIEW daily_beat_rollups WITH (timescaledb.continuous) AS
SELECT
    patient_id,
    time_bucket(INTERVAL '1 day', t) AS day,
    count(*) AS n_beats,
    avg(rr_ms) AS mean_rr_ms,
    sum(rr_ms) / 3600000.0 AS wear_hours,
    min(t) AS first_beat,
    max(t) AS last_beat
FROM beats
GROUP BY patient_id, time_bucket(INTERVAL '1 day', t)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('daily_beat_rollups',
    start_offset => INTERVAL '45 days', end_offset => NULL, schedule_interval => INTERVAL '10 minutes');

CREATE MATERIALIZED VIEW daily_window_rollups WITH (timescaledb.continuous) AS
SELECT
    patient_id,
    time_bucket(INTERVAL '1 day', window_start) AS day,
    count(*) AS n_windows,
    avg(ln_rmssd) AS mean_ln_rmssd,
    avg(mean_hr_bpm) AS mean_hr_bpm,
    min(mean_hr_bpm) AS min_hr_bpm,
    avg(stress_index) AS mean_stress_index,
    avg(artifact_share) AS mean_artifact_share
FROM hrv_windows
GROUP BY patient_id, time_bucket(INTERVAL '1 day', window_start)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('daily_window_rollups',
    start_offset => INTERVAL '45 days', end_offset => NULL, schedule_interval => INTERVAL '10 minutes');
