-- Queries of the demo (api/demo/): counts for its summary.

-- name: demo_counts
SELECT
    (SELECT count(*) FROM patients) AS patients,
    (SELECT count(*) FROM beats) AS beats,
    (SELECT count(*) FROM hrv_windows) AS windows,
    (SELECT count(*) FROM daily_values) AS daily_values

-- name: demo_device_beats
SELECT count(*) AS n, max(t) AS last_t FROM beats WHERE device_id = %(device_id)s
