-- Daily values (daily_values): written by the worker, read by /daily and /timeline.

-- name: daily_patient_tz
SELECT timezone FROM patients WHERE id = %(patient_id)s

-- name: daily_delete_patient
DELETE FROM daily_values WHERE patient_id = %(patient_id)s

-- name: daily_copy
COPY daily_values (
    patient_id, day, source, ln_rmssd, rmssd_ms, resting_hr_bpm, stress_index, n_windows, wear_hours,
    artifact_share, rolling_mean_7d, baseline_mean, baseline_sd, band_low, band_high, cv_pct, quality
) FROM STDIN

-- name: daily_list
-- Local days of the patient whose start lies in [start, end).
SELECT d.day, d.source, d.ln_rmssd, d.rmssd_ms, d.resting_hr_bpm, d.stress_index, d.n_windows,
       d.wear_hours, d.artifact_share, d.rolling_mean_7d, d.baseline_mean, d.baseline_sd,
       d.band_low, d.band_high, d.cv_pct, d.quality
FROM daily_values d
JOIN patients p ON p.id = d.patient_id
WHERE d.patient_id = %(patient_id)s
  AND d.day >= (%(start)s::timestamptz AT TIME ZONE p.timezone)::date
  AND d.day < (%(end)s::timestamptz AT TIME ZONE p.timezone)::date + 1
ORDER BY d.day

-- name: daily_sessions_all
SELECT id, kind, started_at, ended_at FROM sessions
WHERE patient_id = %(patient_id)s ORDER BY started_at

-- name: daily_all
SELECT day, source, ln_rmssd, rmssd_ms, resting_hr_bpm, stress_index, n_windows, wear_hours,
       artifact_share, rolling_mean_7d, baseline_mean, baseline_sd, band_low, band_high, cv_pct,
       quality
FROM daily_values WHERE patient_id = %(patient_id)s ORDER BY day

-- name: daily_session
SELECT s.id, s.kind, s.started_at, p.timezone
FROM sessions s JOIN patients p ON p.id = s.patient_id
WHERE s.id = %(session_id)s AND s.patient_id = %(patient_id)s

-- name: daily_list_json
-- The /daily response body, built by PostgreSQL in one round trip.
SELECT coalesce(json_agg(d ORDER BY d.day), '[]'::json)::text AS body
FROM (
    SELECT d.day, d.source, d.ln_rmssd, d.rmssd_ms, d.resting_hr_bpm, d.stress_index, d.n_windows,
           d.wear_hours, d.artifact_share, d.rolling_mean_7d, d.baseline_mean, d.baseline_sd,
           d.band_low, d.band_high, d.cv_pct, d.quality
    FROM daily_values d
    JOIN patients p ON p.id = d.patient_id
    WHERE d.patient_id = %(patient_id)s
      AND d.day >= (%(start)s::timestamptz AT TIME ZONE p.timezone)::date
      AND d.day < (%(end)s::timestamptz AT TIME ZONE p.timezone)::date + 1
) d
