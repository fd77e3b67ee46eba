-- Analysis work queue (api/worker): dirty ranges per patient and procrastinate jobs.

-- name: worker_mark_dirty
INSERT INTO analysis_dirty (patient_id, start_at, end_at)
VALUES (%(patient_id)s, %(start_at)s, %(end_at)s)
ON CONFLICT (patient_id) DO UPDATE SET
    start_at   = least(analysis_dirty.start_at, excluded.start_at),
    end_at     = greatest(analysis_dirty.end_at, excluded.end_at),
    version    = analysis_dirty.version + 1,
    updated_at = now()

-- name: worker_defer_recompute
-- One waiting job per patient: procrastinate's unique index on the queueing lock of 'todo' jobs
-- (schema 0020, procrastinate 3.10.0) absorbs the duplicate; a job already waiting reads the
-- widened dirty row when it starts. Same columns as procrastinate_defer_jobs_v1 inserts.
INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args)
VALUES (%(queue)s, %(task)s, %(lock)s, %(lock)s, %(args)s::jsonb)
ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
RETURNING id

-- name: worker_dirty_patients
SELECT patient_id FROM analysis_dirty ORDER BY updated_at

-- name: worker_take_dirty
SELECT d.start_at, d.end_at, d.version, p.timezone
FROM analysis_dirty d JOIN patients p ON p.id = d.patient_id
WHERE d.patient_id = %(patient_id)s

-- name: worker_clear_dirty
DELETE FROM analysis_dirty WHERE patient_id = %(patient_id)s AND version = %(version)s

-- name: worker_job_counts
SELECT task_name, status::text AS status, count(*) AS n
FROM procrastinate_jobs
GROUP BY task_name, status
ORDER BY task_name, status

-- name: worker_problem_jobs
-- Failed jobs and jobs waiting for a retry, newest first, with their last event.
SELECT j.id, j.task_name, j.status::text AS status, j.args, j.attempts, j.scheduled_at,
       (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS last_event_at
FROM procrastinate_jobs j
WHERE j.status = 'failed' OR (j.status = 'todo' AND j.attempts > 0)
ORDER BY j.id DESC
LIMIT %(limit)s

-- name: worker_stalled_jobs
-- Analysis jobs still 'doing' whose worker is gone or sent no heartbeat for %(stalled_after_s)s, with
-- how many jobs wait behind the same lock.
SELECT j.id, j.args, j.attempts, j.worker_id, w.last_heartbeat,
       (SELECT max(e.at) FROM procrastinate_events e
         WHERE e.job_id = j.id AND e.type = 'started') AS started_at,
       (SELECT count(*) FROM procrastinate_jobs b
         WHERE b.lock = j.lock AND b.status = 'todo') AS blocked_jobs
FROM procrastinate_jobs j
LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
WHERE j.status = 'doing' AND j.queue_name = %(queue)s
  AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => %(stalled_after_s)s))
ORDER BY j.id
LIMIT %(limit)s

-- name: worker_live_count
-- Workers that sent a heartbeat within %(stalled_after_s)s.
SELECT count(*) AS n FROM procrastinate_workers
WHERE last_heartbeat >= now() - make_interval(secs => %(stalled_after_s)s)
