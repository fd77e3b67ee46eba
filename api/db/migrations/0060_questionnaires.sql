-- 0060: questionnaires (issue 12): scored responses, per-patient protocols, safety alerts, the mail
-- outbox the background worker sends from, patients' reminder choices and the reminders already sent.
-- Instrument definitions themselves are files (api/instruments/definitions), not rows.

-- One answered questionnaire. Scores are those of the definition version it was answered with.
CREATE TABLE questionnaire_responses (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id         uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    instrument         text NOT NULL CHECK (instrument ~ '^[a-z][a-z0-9_-]{1,31}$'),
    instrument_version text NOT NULL,
    at                 timestamptz NOT NULL,
    answers            smallint[] NOT NULL CHECK (cardinality(answers) BETWEEN 1 AND 200),
    total              integer NOT NULL CHECK (total >= 0),
    severity           text NOT NULL,
    subscales          jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- 'patient': answered by the patient; 'clinic': answers given in clinic, entered by a therapist
    source             text NOT NULL CHECK (source IN ('patient', 'clinic')),
    entered_by         uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX questionnaire_responses_patient_idx
    ON questionnaire_responses (patient_id, instrument, at);

-- A patient's protocol when the therapist chose another template or changed it (no row: the clinic's
-- default template). protocol NULL: follow the named template file as it is now.
CREATE TABLE questionnaire_protocols (
    patient_id  uuid PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
    template    text NOT NULL,
    protocol    jsonb,
    updated_by  uuid REFERENCES users(id) ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Raised by a response that meets a risk rule; open until an assigned therapist acknowledges it.
CREATE TABLE safety_alerts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id       uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    response_id      uuid NOT NULL REFERENCES questionnaire_responses(id) ON DELETE CASCADE,
    rules            jsonb NOT NULL,
    raised_at        timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    acknowledged_by  uuid REFERENCES users(id) ON DELETE SET NULL,
    note             text,
    CHECK ((acknowledged_at IS NULL) = (note IS NULL))
);
CREATE INDEX safety_alerts_open_idx ON safety_alerts (patient_id) WHERE acknowledged_at IS NULL;
CREATE INDEX safety_alerts_patient_idx ON safety_alerts (patient_id, raised_at);

-- Every e-mail, written in the transaction that decides to send it; the worker delivers it (with
-- retries) and records the outcome here, where the admin sees failures. Messages carry no health or
-- identifying information by construction (api/mail/messages.py).
CREATE TABLE mail_outbox (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('safety_alert', 'unassigned_alert', 'questionnaire_reminder',
                                               'morning_reminder', 'test')),
    to_user_id   uuid REFERENCES users(id) ON DELETE SET NULL,
    to_address   text NOT NULL,
    subject      text NOT NULL,
    body         text NOT NULL,
    alert_id     uuid REFERENCES safety_alerts(id) ON DELETE SET NULL,
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'sent', 'retrying', 'failed', 'not_configured')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX mail_outbox_status_idx ON mail_outbox (status, created_at);

-- A patient's reminder choices (no row: no reminders). Times are local to the patient's time zone.
CREATE TABLE notification_settings (
    patient_id               uuid PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
    questionnaire_reminders  boolean NOT NULL DEFAULT false,
    morning_reminders        boolean NOT NULL DEFAULT false,
    morning_at               time NOT NULL DEFAULT '07:30',
    quiet_start              time NOT NULL DEFAULT '21:00',
    quiet_end                time NOT NULL DEFAULT '07:00',
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- Reminders already queued, so each is sent once (key: a due point and its state, or a morning date).
CREATE TABLE reminder_log (
    patient_id  uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    key         text NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, key)
);
