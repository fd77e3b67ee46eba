-- 0070 provenance: where beats come from. Every device has a source (the collector, the patient's
-- browser, or an import of which format); every batch records its source, time resolution and the
-- import it belongs to; imports and the summaries a source computed itself (Apple's SDNN) are kept
-- apart from beats; windows say which source their beats came from (analysis never mixes sources
-- inside a window).

ALTER TABLE devices ADD COLUMN source text NOT NULL DEFAULT 'collector'
    CHECK (source IN ('collector', 'browser', 'apple_health', 'fit', 'polar', 'elite_hrv',
                      'hrv4training', 'kubios'));
-- Import devices have no token (nothing uploads with them); every other device has one.
ALTER TABLE devices ALTER COLUMN token_hash DROP NOT NULL;
ALTER TABLE devices ADD CONSTRAINT devices_token_for_uploaders
    CHECK ((source IN ('collector', 'browser')) = (token_hash IS NOT NULL));
-- One import device per patient, source and device name: re-imports land on the same device, so
-- beats already stored are duplicates by (device_id, t).
CREATE UNIQUE INDEX devices_import_key ON devices (patient_id, source, label)
    WHERE source NOT IN ('collector', 'browser');

CREATE TABLE imports (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id    uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    source        text NOT NULL,
    file_name     text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    file_sha256   bytea NOT NULL CHECK (length(file_sha256) = 32),
    file_bytes    bigint NOT NULL CHECK (file_bytes >= 0),
    resolution_ms double precision NOT NULL CHECK (resolution_ms > 0),
    beats         integer NOT NULL CHECK (beats >= 0),
    accepted      integer NOT NULL CHECK (accepted >= 0),
    duplicates    integer NOT NULL CHECK (duplicates >= 0),
    skipped       integer NOT NULL DEFAULT 0 CHECK (skipped >= 0),
    summaries     integer NOT NULL DEFAULT 0 CHECK (summaries >= 0),
    first_at      timestamptz,
    last_at       timestamptz,
    created_by    uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imports_patient_idx ON imports (patient_id, created_at);

ALTER TABLE ingest_batches ADD COLUMN source text;
ALTER TABLE ingest_batches ADD COLUMN resolution_ms double precision CHECK (resolution_ms > 0);
ALTER TABLE ingest_batches ADD COLUMN import_id uuid REFERENCES imports(id) ON DELETE SET NULL;
UPDATE ingest_batches SET source = 'collector', resolution_ms = 1000.0 / 1024 WHERE source IS NULL;

-- Values a source computed itself (Apple's SDNN of a reading, HRV4Training's rMSSD): what they are,
-- never mixed into markers computed from beats.
CREATE TABLE import_summaries (
    device_id  uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    patient_id uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    metric     text NOT NULL CHECK (metric IN ('sdnn_ms', 'rmssd_ms', 'hr_bpm')),
    start_at   timestamptz NOT NULL,
    end_at     timestamptz,
    value      double precision NOT NULL,
    import_id  uuid REFERENCES imports(id) ON DELETE SET NULL,
    PRIMARY KEY (device_id, metric, start_at)
);
CREATE INDEX import_summaries_patient_idx ON import_summaries (patient_id, start_at);

-- The source of the beats a window was computed from (NULL for windows computed before 0070).
ALTER TABLE hrv_windows ADD COLUMN source text;

-- Guided readings recorded in the patient's browser: the page's id, its device and interval.
CREATE TABLE readings (
    id         uuid PRIMARY KEY,
    patient_id uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    device_id  uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    kind       text NOT NULL DEFAULT 'morning' CHECK (kind IN ('morning')),
    started_at timestamptz NOT NULL,
    ended_at   timestamptz NOT NULL CHECK (ended_at > started_at),
    planned_s  integer NOT NULL CHECK (planned_s BETWEEN 10 AND 3600),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX readings_patient_idx ON readings (patient_id, started_at);
