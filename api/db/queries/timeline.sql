-- The dashboard's timeline: sessions, journal entries and wear in one patient's time range.

-- name: timeline_sessions
SELECT id, kind, started_at, ended_at, note FROM sessions
WHERE patient_id = %(patient_id)s AND started_at < %(end)s
  AND coalesce(ended_at, started_at) >= %(start)s
ORDER BY started_at

-- name: timeline_journal
SELECT id, at, text, tags, mood, body FROM journal_entries
WHERE patient_id = %(patient_id)s AND at >= %(start)s AND at < %(end)s
ORDER BY at

-- name: timeline_recording_gaps
SELECT start_at, end_at FROM recording_gaps
WHERE patient_id = %(patient_id)s AND start_at < %(end)s AND end_at >= %(start)s
ORDER BY start_at

-- name: timeline_wear_segments
-- Runs of consecutive 5-min windows (gaps-and-islands): anything between two runs is a wear gap.
WITH w AS (
    SELECT window_start, window_s,
           CASE WHEN window_start - lag(window_start) OVER (ORDER BY window_start)
                     > make_interval(secs => window_s) THEN 1 ELSE 0 END AS brk
    FROM hrv_windows
    WHERE patient_id = %(patient_id)s AND window_start >= %(start)s AND window_start < %(end)s
), g AS (
    SELECT window_start, window_s, sum(brk) OVER (ORDER BY window_start) AS grp FROM w
)
SELECT min(window_start) AS start_at,
       max(window_start + make_interval(secs => window_s)) AS end_at,
       count(*) AS n_windows
FROM g GROUP BY grp ORDER BY 1
