-- 0080: login throttling shared by every API process (api/auth/throttle.py), and the addresses each
-- account logged in from (an owner's known address is not slowed by failures from elsewhere).

CREATE TABLE login_throttle (
    scope           text NOT NULL CHECK (scope IN ('pair', 'address', 'account')),
    key             text NOT NULL,
    failures        integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX login_throttle_last_failure_idx ON login_throttle (last_failure_at);

CREATE TABLE login_known_addresses (
    user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_addr   text NOT NULL,
    last_login_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client_addr)
);
