-- 0051: one-time account links and ending a user's sessions.
-- An account link is a random token (only its SHA-256 is kept) that lets its holder, once and before it
-- expires, either accept an invitation to a patient's login (purpose 'invite': the patient sets their own
-- password; the therapist never sees it) or set the password of an existing account ('setup' for a new
-- staff account, 'reset' after a forgotten password). api/account_links.py issues and redeems them.
-- users.session_epoch is carried in every access token; raising it (deactivation, password change) makes
-- every token issued before invalid at once.

ALTER TABLE users ADD COLUMN session_epoch integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_set_at timestamptz;
UPDATE users SET password_set_at = created_at;

CREATE TABLE account_links (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    purpose     text NOT NULL CHECK (purpose IN ('invite', 'setup', 'reset')),
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- setup and reset: the account whose password the link sets; invite: the login it created, once used
    user_id     uuid REFERENCES users(id) ON DELETE CASCADE,
    -- invite: the patient the login belongs to, and the email it signs in with
    patient_id  uuid REFERENCES patients(id) ON DELETE CASCADE,
    email       text CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    created_by  uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL CHECK (expires_at > created_at),
    used_at     timestamptz,
    revoked_at  timestamptz,
    CHECK ((purpose = 'invite') = (patient_id IS NOT NULL)),
    CHECK (purpose <> 'invite' OR email IS NOT NULL),
    CHECK (purpose = 'invite' OR user_id IS NOT NULL)
);
CREATE INDEX account_links_patient_idx ON account_links (patient_id, created_at) WHERE patient_id IS NOT NULL;
CREATE INDEX account_links_user_idx ON account_links (user_id, created_at) WHERE user_id IS NOT NULL;

-- The audit-log viewer filters by actor and action besides patient and time.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);
CREATE INDEX audit_log_action_idx ON audit_log (action, at);
