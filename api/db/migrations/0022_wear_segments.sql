-- 0022: runs of consecutive 5-min windows per patient (wear), kept by the analysis worker so that the
-- dashboard's timeline can draw gaps as gaps without scanning every window (api/worker/recompute.py).

CREATE TABLE wear_segments (
    patient_id uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    start_at   timestamptz NOT NULL,
    end_at     timestamptz NOT NULL CHECK (end_at > start_at),
    n_windows  integer NOT NULL CHECK (n_windows > 0),
    PRIMARY KEY (patient_id, start_at)
);
CREATE INDEX wear_segments_end_idx ON wear_segments (patient_id, end_at);
