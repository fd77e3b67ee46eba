-- 5-minute HRV windows (hrv_windows): the worker's recompute and GET /v1/patients/{id}/windows.

-- name: windows_load_beats
-- One beat per instant even when two straps of the patient overlap (the lower device id wins).
SELECT DISTINCT ON (t) extract(epoch FROM t)::double precision AS t_s, rr_ms
FROM beats
WHERE patient_id = %(patient_id)s AND t >= %(start)s AND t < %(end)s
ORDER BY t, device_id

-- name: windows_delete_range
DELETE FROM hrv_windows
WHERE patient_id = %(patient_id)s AND window_start >= %(start)s AND window_start < %(end)s

-- name: windows_copy
COPY hrv_windows (
    patient_id, window_start, window_s, n_beats, artifact_share, mean_nn_ms, mean_hr_bpm, sdnn_ms,
    rmssd_ms, ln_rmssd, pnn50_pct, sd1_ms, sd2_ms, sd1_sd2, lf_ms2, hf_ms2, lf_hf, dfa_alpha1, sampen,
    stress_index, baevsky_si, quality, quality_notes
) FROM STDIN

-- name: windows_for_trends
SELECT window_start, window_s, n_beats, artifact_share, mean_nn_ms, mean_hr_bpm, sdnn_ms, rmssd_ms,
       ln_rmssd, pnn50_pct, sd1_ms, sd2_ms, sd1_sd2, lf_ms2, hf_ms2, lf_hf, dfa_alpha1, sampen,
       stress_index, baevsky_si, quality, quality_notes, source
FROM hrv_windows
WHERE patient_id = %(patient_id)s
ORDER BY window_start

-- name: windows_for_trends_range
-- The windows starting in [start, end): what the daily values of a few local days read.
SELECT window_start, window_s, n_beats, artifact_share, mean_nn_ms, mean_hr_bpm, sdnn_ms, rmssd_ms,
       ln_rmssd, pnn50_pct, sd1_ms, sd2_ms, sd1_sd2, lf_ms2, hf_ms2, lf_hf, dfa_alpha1, sampen,
       stress_index, baevsky_si, quality, quality_notes, source
FROM hrv_windows
WHERE patient_id = %(patient_id)s AND window_start >= %(start)s AND window_start < %(end)s
ORDER BY window_start

-- name: windows_span
-- First and last window start of the patient (NULLs without windows).
SELECT min(window_start) AS first_at, max(window_start) AS last_at
FROM hrv_windows WHERE patient_id = %(patient_id)s

-- name: windows_list
SELECT window_start, window_s, n_beats, artifact_share, mean_nn_ms, mean_hr_bpm, sdnn_ms, rmssd_ms,
       ln_rmssd, pnn50_pct, sd1_ms, sd2_ms, sd1_sd2, lf_ms2, hf_ms2, lf_hf, dfa_alpha1, sampen,
       stress_index, baevsky_si, quality, quality_notes
FROM hrv_windows
WHERE patient_id = %(patient_id)s AND window_start >= %(start)s AND window_start < %(end)s
ORDER BY window_start
LIMIT %(limit)s

-- name: windows_list_json
-- The /windows response body, built by PostgreSQL in one round trip.
SELECT coalesce(json_agg(w ORDER BY w.window_start), '[]'::json)::text AS body
FROM (
    SELECT window_start, window_s, n_beats, artifact_share, mean_nn_ms, mean_hr_bpm, sdnn_ms,
           rmssd_ms, ln_rmssd, pnn50_pct, sd1_ms, sd2_ms, sd1_sd2, lf_ms2, hf_ms2, lf_hf,
           dfa_alpha1, sampen, stress_index, baevsky_si, quality, quality_notes
    FROM hrv_windows
    WHERE patient_id = %(patient_id)s AND window_start >= %(start)s AND window_start < %(end)s
) w

-- name: wear_segments_delete
DELETE FROM wear_segments WHERE patient_id = %(patient_id)s

-- name: wear_segments_rebuild
-- The patient's wear segments (after wear_segments_delete): runs of windows, each starting where
-- the previous one ended.
WITH marked AS (
    SELECT window_start, window_s,
           CASE WHEN window_start - lag(window_start) OVER (ORDER BY window_start)
                     > make_interval(secs => window_s) THEN 1 ELSE 0 END AS brk
    FROM hrv_windows
    WHERE patient_id = %(patient_id)s
), grouped AS (
    SELECT window_start, window_s, sum(brk) OVER (ORDER BY window_start) AS grp FROM marked
)
INSERT INTO wear_segments (patient_id, start_at, end_at, n_windows)
SELECT %(patient_id)s, min(window_start), max(window_start + make_interval(secs => window_s)),
       count(*)
FROM grouped GROUP BY grp
