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
-- Wear (kept by the worker in wear_segments): anything between two segments is a gap.
SELECT start_at, end_at, n_windows FROM wear_segments
WHERE patient_id = %(patient_id)s AND end_at > %(start)s AND start_at < %(end)s
ORDER BY start_at

-- name: timeline_json
-- The /timeline response body except its daily part, in one round trip (same content as the queries
-- above); the daily values are judged for the patient's today in Python (api/trend_view.py).
SELECT json_build_object(
    'patient_id', %(patient_id)s::uuid,
    'start', %(start)s::timestamptz,
    'end', %(end)s::timestamptz,
    'sessions', (
        SELECT coalesce(json_agg(s ORDER BY s.started_at), '[]'::json) FROM (
            SELECT id, kind, started_at, ended_at, note FROM sessions
            WHERE patient_id = %(patient_id)s AND started_at < %(end)s
              AND coalesce(ended_at, started_at) >= %(start)s
        ) s
    ),
    'journal', (
        SELECT coalesce(json_agg(j ORDER BY j.at), '[]'::json) FROM (
            SELECT id, at, text, tags, mood, body FROM journal_entries
            WHERE patient_id = %(patient_id)s AND at >= %(start)s AND at < %(end)s
        ) j
    ),
    'wear_segments', (
        SELECT coalesce(json_agg(g ORDER BY g.start_at), '[]'::json) FROM (
            SELECT start_at, end_at, n_windows FROM wear_segments
            WHERE patient_id = %(patient_id)s AND end_at > %(start)s AND start_at < %(end)s
        ) g
    ),
    'recording_gaps', (
        SELECT coalesce(json_agg(r ORDER BY r.start_at), '[]'::json) FROM (
            SELECT start_at, end_at FROM recording_gaps
            WHERE patient_id = %(patient_id)s AND start_at < %(end)s AND end_at >= %(start)s
        ) r
    )
)::text AS body
