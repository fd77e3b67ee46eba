-- Ingest of beat batches (api/ingest.py): staging, one set-based insert, batch idempotency.

-- name: ingest_lock_device
-- Serialises batches of one device (a device sends one batch at a time; this only orders retries).
SELECT pg_advisory_xact_lock(hashtextextended(%(device_id)s::text, 7406))

-- name: ingest_claim_batch
INSERT INTO ingest_batches (batch_id, device_id, accepted, duplicates)
VALUES (%(batch_id)s, %(device_id)s, 0, 0)
ON CONFLICT (batch_id) DO NOTHING
RETURNING batch_id

-- name: ingest_get_batch
SELECT device_id, accepted, duplicates FROM ingest_batches WHERE batch_id = %(batch_id)s

-- name: ingest_create_stage
CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
    t_ms     bigint  NOT NULL,
    rr_ticks integer NOT NULL
) ON COMMIT DELETE ROWS

-- name: ingest_copy_stage
COPY ingest_stage (t_ms, rr_ticks) FROM STDIN

-- name: ingest_insert_beats
-- One set-based insert per batch; beats already stored for (device, t) are skipped, not rewritten.
-- flags bit 0: RR outside the analysis bounds (kept as raw truth, flagged for the analysis).
WITH inserted AS (
    INSERT INTO beats (patient_id, device_id, t, rr_ticks, rr_ms, flags)
    SELECT %(patient_id)s, %(device_id)s,
           TIMESTAMPTZ 'epoch' + s.t_ms * INTERVAL '1 millisecond',
           s.rr_ticks,
           s.rr_ticks * 1000.0 / 1024.0,
           CASE WHEN s.rr_ticks < %(analysis_min_ticks)s OR s.rr_ticks > %(analysis_max_ticks)s
                THEN 1 ELSE 0 END
    FROM ingest_stage s
    ON CONFLICT (device_id, t) DO NOTHING
    RETURNING t
)
SELECT count(*) AS accepted, min(t) AS first_t, max(t) AS last_t FROM inserted

-- name: ingest_finish_batch
UPDATE ingest_batches SET accepted = %(accepted)s, duplicates = %(duplicates)s
WHERE batch_id = %(batch_id)s

-- name: ingest_insert_gaps
INSERT INTO recording_gaps (patient_id, device_id, start_at, end_at)
SELECT %(patient_id)s, %(device_id)s,
       TIMESTAMPTZ 'epoch' + g.start_ms * INTERVAL '1 millisecond',
       TIMESTAMPTZ 'epoch' + g.end_ms * INTERVAL '1 millisecond'
FROM unnest(%(starts_ms)s::bigint[], %(ends_ms)s::bigint[]) AS g(start_ms, end_ms)
ON CONFLICT (device_id, start_at) DO UPDATE SET end_at = greatest(recording_gaps.end_at, excluded.end_at)

-- name: ingest_touch_device
UPDATE devices SET
    last_seen_at   = now(),
    strap_address  = coalesce(%(address)s, strap_address),
    strap_name     = coalesce(%(name)s, strap_name),
    strap_model    = coalesce(%(model)s, strap_model),
    strap_firmware = coalesce(%(firmware)s, strap_firmware),
    battery_pct    = coalesce(%(battery_pct)s, battery_pct)
WHERE id = %(device_id)s

-- name: ingest_row_by_row_baseline
-- Only for benchmarks/ingest.py: the naive one-statement-per-beat insert Somatrace is compared with.
INSERT INTO beats (patient_id, device_id, t, rr_ticks, rr_ms, flags)
VALUES (%(patient_id)s, %(device_id)s, %(t)s, %(rr_ticks)s, %(rr_ms)s, 0)
ON CONFLICT (device_id, t) DO NOTHING

-- name: beats_stream
-- GET /v1/patients/{id}/beats: read through a server-side cursor, never all at once.
SELECT (extract(epoch FROM t) * 1000)::bigint AS t_ms, rr_ticks, rr_ms
FROM beats
WHERE patient_id = %(patient_id)s AND t >= %(start)s AND t < %(end)s
ORDER BY t
