-- 0021: what the analysis worker still has to recompute, one row per patient (api/worker).
-- Ingest widens the row in the same transaction as the beats it stores and defers one procrastinate job
-- per patient; the job deletes the row only if nothing widened it meanwhile (version unchanged).

CREATE TABLE analysis_dirty (
    patient_id uuid PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
    start_at   timestamptz NOT NULL,
    end_at     timestamptz NOT NULL CHECK (end_at >= start_at),
    version    bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
