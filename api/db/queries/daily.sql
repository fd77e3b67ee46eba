-- Daily values (daily_values): one value per local day, written by the worker; the trend endpoints judge
-- them for the patient's today (api/trend_view.py).

-- name: daily_patient_tz
SELECT timezone FROM patients WHERE id = %(patient_id)s

-- name: daily_delete_patient
DELETE FROM daily_values WHERE patient_id = %(patient_id)s

-- name: daily_span
-- First and last stored day of the patient (NULLs when none is stored).
SELECT min(day) AS first_day, max(day) AS last_day FROM daily_values WHERE patient_id = %(patient_id)s

-- name: daily_delete_range
DELETE FROM daily_values WHERE patient_id = %(patient_id)s AND day >= %(first_day)s AND day <= %(last_day)s

-- name: daily_delete_outside
-- Days no longer in the table's span (the last window or medicine session before them was removed).
DELETE FROM daily_values
WHERE patient_id = %(patient_id)s AND (day < %(first_day)s OR day > %(last_day)s)

-- name: daily_copy
COPY daily_values (
    patient_id, day, source, beat_source, ln_rmssd, rmssd_ms, resting_hr_bpm, stress_index, n_windows, wear_hours,
    artifact_share, quality
) FROM STDIN

-- name: daily_sessions_all
SELECT id, kind, started_at, ended_at FROM sessions
WHERE patient_id = %(patient_id)s ORDER BY started_at

-- name: daily_all
-- Every stored day of the patient: the baseline may lie before any requested range.
SELECT day, source, beat_source, ln_rmssd, rmssd_ms, resting_hr_bpm, stress_index, n_windows,
       wear_hours, artifact_share, quality
FROM daily_values WHERE patient_id = %(patient_id)s ORDER BY day

-- name: daily_session
SELECT s.id, s.kind, s.started_at, p.timezone
FROM sessions s JOIN patients p ON p.id = s.patient_id
WHERE s.id = %(session_id)s AND s.patient_id = %(patient_id)s
