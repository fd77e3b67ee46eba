-- 0030: the stress index on the scale people compare with (analysis.stress). hrv_windows.stress_index
-- and daily_values.stress_index held Baevsky's raw stress index; they now hold Kubios' stress index, its
-- square root, and the raw value has a column of its own, baevsky_si. Stored values are converted in
-- place, so nothing reads on the old scale; every patient with beats is then queued for a full
-- recompute (the analysis itself changed: resolution-aware artifact correction, gap-aware markers, a
-- trimmed range in the stress index, quality from the expected error), with the queue, task and lock
-- names of api/worker/queue.py as in 0023.

ALTER TABLE hrv_windows ADD COLUMN baevsky_si double precision;

UPDATE hrv_windows
SET baevsky_si = stress_index, stress_index = sqrt(stress_index)
WHERE stress_index IS NOT NULL;

-- A daily value pools window stress indices (median or weighted mean); its Baevsky counterpart is
-- defined as the square of the daily stress index, so the two never disagree.
UPDATE daily_values SET stress_index = sqrt(stress_index) WHERE stress_index IS NOT NULL;
ALTER TABLE daily_values
    ADD COLUMN baevsky_si double precision GENERATED ALWAYS AS (stress_index * stress_index) STORED;

INSERT INTO analysis_dirty (patient_id, start_at, end_at)
SELECT patient_id, min(t), max(t) FROM beats GROUP BY patient_id
ON CONFLICT (patient_id) DO UPDATE SET
    start_at   = least(analysis_dirty.start_at, excluded.start_at),
    end_at     = greatest(analysis_dirty.end_at, excluded.end_at),
    version    = analysis_dirty.version + 1,
    updated_at = now();

INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args)
SELECT 'analysis', 'somatrace.recompute_patient', 'recompute:' || patient_id, 'recompute:' || patient_id,
       jsonb_build_object('patient_id', patient_id::text)
FROM analysis_dirty
ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING;
