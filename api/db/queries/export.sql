-- Research exports: only consented patients, identified by their research pseudonym (0081; never the
-- clinic's patient code); the date shift stays server-side.

-- name: export_patients
SELECT p.id, r.pseudonym, p.timezone, p.date_shift_days, p.journal_text_consent,
       (SELECT min(s.started_at) FROM sessions s WHERE s.patient_id = p.id) AS first_session_at
FROM patients p
JOIN research_pseudonyms r ON r.patient_id = p.id
WHERE p.research_consent
  AND (%(pseudonyms)s::text[] IS NULL OR r.pseudonym = ANY (%(pseudonyms)s::text[]))
ORDER BY r.pseudonym

-- name: export_beats_page
-- One page of beats after (after_t, after_device) in time order, packed as big-endian arrays
-- (int8 epoch ms, int4 ticks, int2 flags) so a page crosses the wire as three values.
SELECT count(*) AS n,
       max(t) AS last_t,
       (array_agg(device_id ORDER BY t DESC, device_id DESC))[1] AS last_device,
       string_agg(int8send(round(extract(epoch FROM t) * 1000)::int8), ''::bytea ORDER BY t, device_id) AS t_ms,
       string_agg(int4send(rr_ticks), ''::bytea ORDER BY t, device_id) AS rr_ticks,
       string_agg(int2send(flags), ''::bytea ORDER BY t, device_id) AS flags
FROM (
    SELECT t, device_id, rr_ticks, flags
    FROM beats
    WHERE patient_id = %(patient_id)s AND t >= %(start)s AND t < %(end)s
      AND (t, device_id) > (%(after_t)s, %(after_device)s)
    ORDER BY t, device_id
    LIMIT %(limit)s
) AS page

-- name: export_windows
SELECT window_start, window_s, n_beats, artifact_share, mean_nn_ms, mean_hr_bpm, sdnn_ms, rmssd_ms,
       ln_rmssd, pnn50_pct, sd1_ms, sd2_ms, sd1_sd2, lf_ms2, hf_ms2, lf_hf, dfa_alpha1, sampen,
       stress_index, baevsky_si, quality, quality_notes
FROM hrv_windows
WHERE patient_id = %(patient_id)s AND window_start >= %(start)s AND window_start < %(end)s
ORDER BY window_start

-- name: export_sessions
SELECT kind, started_at, ended_at
FROM sessions
WHERE patient_id = %(patient_id)s AND started_at >= %(start)s AND started_at < %(end)s
ORDER BY started_at

-- name: export_journal
SELECT at, tags, mood, body, text
FROM journal_entries
WHERE patient_id = %(patient_id)s AND at >= %(start)s AND at < %(end)s
ORDER BY at
