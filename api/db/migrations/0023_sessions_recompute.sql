-- 0023: a session added, moved or deleted changes the baseline and the periods after medicine sessions,
-- so every write to sessions marks the patient dirty and defers their recompute job (api/worker), in the
-- same transaction, whichever code path writes. Queue, task and lock names match api/worker/queue.py.

CREATE FUNCTION somatrace_session_changed() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    pid uuid;
    at  timestamptz;
BEGIN
    IF TG_OP = 'DELETE' THEN
        pid := OLD.patient_id;
        at := OLD.started_at;
    ELSE
        pid := NEW.patient_id;
        at := NEW.started_at;
    END IF;
    -- a patient being deleted (sessions removed by cascade) has nothing left to recompute
    IF NOT EXISTS (SELECT 1 FROM patients WHERE id = pid) THEN
        RETURN NULL;
    END IF;
    INSERT INTO analysis_dirty (patient_id, start_at, end_at)
    VALUES (pid, at, at)
    ON CONFLICT (patient_id) DO UPDATE SET
        start_at   = least(analysis_dirty.start_at, excluded.start_at),
        end_at     = greatest(analysis_dirty.end_at, excluded.end_at),
        version    = analysis_dirty.version + 1,
        updated_at = now();
    INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args)
    VALUES ('analysis', 'somatrace.recompute_patient', 'recompute:' || pid, 'recompute:' || pid,
            jsonb_build_object('patient_id', pid::text))
    ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER sessions_mark_dirty
    AFTER INSERT OR DELETE OR UPDATE OF patient_id, kind, started_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION somatrace_session_changed();
