-- Ingest of beat batches (api/ingest.py): staging, one set-based insert, batch idempotency.

-- name: ingest_claim_batch
-- Serialises batches of one device (advisory lock; a device sends one batch at a time, so this only
-- orders retries), then claims the batch id: a concurrent request with the same id waits here for the
-- first one's commit and then finds the id taken.
WITH device_lock AS (
    SELECT pg_advisory_xact_lock(hashtextextended(%(device_id)s::text, 7406)) AS locked
)
INSERT INTO ingest_batches (batch_id, device_id, accepted, duplicates, source, resolution_ms, import_id)
SELECT %(batch_id)s, %(device_id)s, 0, 0,
       coalesce(%(source)s::text, (SELECT source FROM devices WHERE id = %(device_id)s)),
       %(resolution_ms)s, %(import_id)s
FROM device_lock
ON CONFLICT (batch_id) DO NOTHING
RETURNING batch_id

-- name: ingest_get_batch
SELECT device_id, accepted, duplicates FROM ingest_batches WHERE batch_id = %(batch_id)s

-- name: ingest_create_stage
-- rr_ms: the source's own value where it is not a whole tick count (imports), else NULL; flags: extra
-- bits of the source (bit 1: RR derived from a rate).
CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
    t_ms     bigint   NOT NULL,
    rr_ticks integer  NOT NULL,
    rr_ms    float8,
    flags    smallint NOT NULL DEFAULT 0
) ON COMMIT DELETE ROWS

-- name: ingest_clear_stage
-- Several batches in one transaction (an import): the stage only empties at commit.
DELETE FROM ingest_stage

-- name: ingest_copy_stage
COPY ingest_stage (t_ms, rr_ticks, rr_ms, flags) FROM STDIN

-- name: ingest_insert_beats
-- Everything after the COPY in one statement: the set-based insert (beats already stored for
-- (device, t) are skipped, not rewritten; flags bit 0 = RR outside the analysis bounds, kept as raw
-- truth), the patient's dirty range and waiting recompute job (api/worker/queue.py; procrastinate's
-- queueing-lock index makes it one waiting job per patient), the batch counts, gaps and strap info.
WITH inserted AS (
    INSERT INTO beats (patient_id, device_id, t, rr_ticks, rr_ms, flags)
    SELECT %(patient_id)s, %(device_id)s,
           TIMESTAMPTZ 'epoch' + s.t_ms * INTERVAL '1 millisecond',
           s.rr_ticks,
           coalesce(s.rr_ms, s.rr_ticks * 0.9765625::float8),  -- 1000/1024 exactly: rr_ms is exact
           (CASE WHEN s.rr_ticks < %(analysis_min_ticks)s OR s.rr_ticks > %(analysis_max_ticks)s
                 THEN 1 ELSE 0 END) | s.flags
    FROM ingest_stage s
    ON CONFLICT (device_id, t) DO NOTHING
    RETURNING t
), agg AS (
    SELECT count(*) AS accepted, min(t) AS first_t, max(t) AS last_t FROM inserted
), dirty AS (
    INSERT INTO analysis_dirty (patient_id, start_at, end_at)
    SELECT %(patient_id)s, first_t, last_t FROM agg WHERE accepted > 0
    ON CONFLICT (patient_id) DO UPDATE SET
        start_at   = least(analysis_dirty.start_at, excluded.start_at),
        end_at     = greatest(analysis_dirty.end_at, excluded.end_at),
        version    = analysis_dirty.version + 1,
        updated_at = now()
    RETURNING 1
), job AS (
    INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args)
    SELECT %(queue)s, %(task)s, %(lock)s, %(lock)s, %(args)s::jsonb FROM agg WHERE accepted > 0
    ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
    RETURNING id
), batch AS (
    UPDATE ingest_batches SET accepted = agg.accepted, duplicates = %(n_beats)s - agg.accepted
    FROM agg
    WHERE batch_id = %(batch_id)s
    RETURNING 1
), gaps AS (
    INSERT INTO recording_gaps (patient_id, device_id, start_at, end_at)
    SELECT %(patient_id)s, %(device_id)s,
           TIMESTAMPTZ 'epoch' + g.start_ms * INTERVAL '1 millisecond',
           TIMESTAMPTZ 'epoch' + g.end_ms * INTERVAL '1 millisecond'
    FROM unnest(%(starts_ms)s::bigint[], %(ends_ms)s::bigint[]) AS g(start_ms, end_ms)
    ON CONFLICT (device_id, start_at)
        DO UPDATE SET end_at = greatest(recording_gaps.end_at, excluded.end_at)
    RETURNING 1
), device AS (
    UPDATE devices SET
        last_seen_at   = now(),
        strap_address  = coalesce(%(address)s, strap_address),
        strap_name     = coalesce(%(name)s, strap_name),
        strap_model    = coalesce(%(model)s, strap_model),
        strap_firmware = coalesce(%(firmware)s, strap_firmware),
        battery_pct    = coalesce(%(battery_pct)s, battery_pct)
    WHERE id = %(device_id)s
    RETURNING 1
)
SELECT accepted, first_t, last_t, (SELECT count(*) FROM job) AS jobs_deferred FROM agg

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
