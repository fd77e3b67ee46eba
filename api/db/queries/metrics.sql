-- GET /metrics (api/metrics.py): the analysis queue at scrape time.

-- name: metrics_queue
SELECT
    count(*) FILTER (WHERE j.status = 'todo') AS waiting,
    count(*) FILTER (WHERE j.status = 'doing') AS running,
    count(*) FILTER (WHERE j.status = 'failed') AS failed,
    count(*) FILTER (
        WHERE j.status = 'doing'
          AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => %(stalled_after_s)s))
    ) AS stalled,
    (SELECT count(*) FROM analysis_dirty) AS dirty_patients,
    (SELECT extract(epoch FROM now() - min(dirty_since)) FROM analysis_dirty) AS lag_s,
    (SELECT count(*) FROM procrastinate_workers
      WHERE last_heartbeat >= now() - make_interval(secs => %(stalled_after_s)s)) AS workers
FROM procrastinate_jobs j
LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
WHERE j.queue_name = %(queue)s AND j.status IN ('todo', 'doing', 'failed')
