-- 0001 core schema: the data model of DESIGN.md on plain PostgreSQL >= 15.
-- TimescaleDB-specific changes (hypertables, compression, continuous aggregates) live in 0002.


CREATE TABLE patients (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pseudonym          text NOT NULL UNIQUE CHECK (pseudonym ~ '^[A-Z0-9-]{6,32}$'),
    display_name       text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    timezone           text NOT NULL DEFAULT 'UTC',
    research_consent   boolean NOT NULL DEFAULT false,
    journal_text_consent boolean NOT NULL DEFAULT false,
    consent_updated_at timestamptz,
    -- secret per-patient shift for date-shifted research exports, in whole weeks' worth of days
    date_shift_days    integer NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('admin', 'therapist', 'patient', 'researcher')),
    display_name    text,
    patient_id      uuid REFERENCES patients(id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    CHECK ((role = 'patient') = (patient_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_patient_key ON users (patient_id) WHERE patient_id IS NOT NULL;

ALTER TABLE patients ADD COLUMN created_by uuid REFERENCES users(id) ON DELETE SET NULL;

CREATE TABLE therapist_assignments (
    therapist_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    patient_id   uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (therapist_id, patient_id)
);
CREATE INDEX therapist_assignments_patient_idx ON therapist_assignments (patient_id);

CREATE TABLE devices (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id     uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    -- SHA-256 of the 256-bit random token; the token itself is shown once and never stored
    token_hash     bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    label          text,
    created_by     uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    last_seen_at   timestamptz,
    strap_address  text,
    strap_name     text,
    strap_model    text,
    strap_firmware text,
    battery_pct    smallint CHECK (battery_pct BETWEEN 0 AND 100)
);
CREATE INDEX devices_patient_idx ON devices (patient_id);

-- The raw truth: one row per heartbeat, never rewritten. t is the beat's wall-clock time
-- (end of its RR interval); rr_ticks is the strap's value in 1/1024 s.
CREATE TABLE beats (
    patient_id uuid NOT NULL,
    device_id  uuid NOT NULL,
    t          timestamptz NOT NULL,
    rr_ticks   integer NOT NULL CHECK (rr_ticks > 0),
    rr_ms      double precision NOT NULL,
    flags      smallint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX beats_device_t_key ON beats (device_id, t);
CREATE INDEX beats_patient_t_idx ON beats (patient_id, t);

-- Idempotency of ingest: a batch id is accepted once per device.
CREATE TABLE ingest_batches (
    batch_id    uuid PRIMARY KEY,
    device_id   uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    received_at timestamptz NOT NULL DEFAULT now(),
    accepted    integer NOT NULL,
    duplicates  integer NOT NULL
);

-- Recording gaps reported by the collector (disconnects, missed beats): never filled with beats.
CREATE TABLE recording_gaps (
    patient_id uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    device_id  uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    start_at   timestamptz NOT NULL,
    end_at     timestamptz NOT NULL CHECK (end_at >= start_at),
    PRIMARY KEY (device_id, start_at)
);
CREATE INDEX recording_gaps_patient_idx ON recording_gaps (patient_id, start_at);

-- Markers per patient per fixed, clock-aligned window (5 min by default); recomputed when beats arrive late.
CREATE TABLE hrv_windows (
    patient_id     uuid NOT NULL,
    window_start   timestamptz NOT NULL,
    window_s       integer NOT NULL DEFAULT 300 CHECK (window_s > 0),
    n_beats        integer NOT NULL,
    artifact_share double precision,
    mean_nn_ms     double precision,
    mean_hr_bpm    double precision,
    sdnn_ms        double precision,
    rmssd_ms       double precision,
    ln_rmssd       double precision,
    pnn50_pct      double precision,
    sd1_ms         double precision,
    sd2_ms         double precision,
    sd1_sd2        double precision,
    lf_ms2         double precision,
    hf_ms2         double precision,
    lf_hf          double precision,
    dfa_alpha1     double precision,
    sampen         double precision,
    stress_index   double precision,
    quality        text NOT NULL,
    quality_notes  text[] NOT NULL DEFAULT '{}',
    computed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, window_start)
);

-- One value per patient per local calendar day, computed by the worker from analysis.trends.
CREATE TABLE daily_values (
    patient_id       uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    day              date NOT NULL,
    source           text NOT NULL,
    ln_rmssd         double precision,
    rmssd_ms         double precision,
    resting_hr_bpm   double precision,
    stress_index     double precision,
    n_windows        integer NOT NULL DEFAULT 0,
    wear_hours       double precision NOT NULL DEFAULT 0,
    artifact_share   double precision,
    rolling_mean_7d  double precision,
    baseline_mean    double precision,
    baseline_sd      double precision,
    band_low         double precision,
    band_high        double precision,
    cv_pct           double precision,
    quality          text NOT NULL DEFAULT 'ok',
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, day)
);

CREATE TABLE sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id  uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('medicine', 'integration', 'other')),
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz CHECK (ended_at IS NULL OR ended_at >= started_at),
    note        text,
    created_by  uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_patient_idx ON sessions (patient_id, started_at);

CREATE TABLE journal_entries (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id  uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    text        text NOT NULL DEFAULT '',
    tags        text[] NOT NULL DEFAULT '{}',
    mood        smallint CHECK (mood BETWEEN 0 AND 10),
    body        smallint CHECK (body BETWEEN 0 AND 10),
    created_by  uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_patient_idx ON journal_entries (patient_id, at);

-- Every read or write of a patient's data, and every export: who, what, when, which patient.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid,
    actor_role  text NOT NULL,
    action      text NOT NULL,
    resource    text NOT NULL,
    patient_id  uuid,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    client_addr text
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_patient_idx ON audit_log (patient_id, at);
