-- name: auth_user_for_login
SELECT id, role, patient_id, password_hash, disabled_at, session_epoch
FROM users
WHERE lower(email) = lower(%(email)s)

-- name: auth_user_rehash
UPDATE users SET password_hash = %(password_hash)s WHERE id = %(id)s

-- name: auth_user_by_id
SELECT id, role, patient_id, disabled_at, session_epoch
FROM users
WHERE id = %(id)s

-- name: auth_therapist_assigned
SELECT EXISTS (
    SELECT 1 FROM therapist_assignments
    WHERE therapist_id = %(therapist_id)s AND patient_id = %(patient_id)s
) AS assigned

-- name: auth_device_patient
SELECT patient_id FROM devices WHERE id = %(device_id)s

-- name: auth_device_by_token_hash
-- One round trip: find the device and, when it is active, write the audit row of this request.
WITH d AS (
    SELECT id, patient_id, token_hash, revoked_at
    FROM devices
    WHERE token_hash = %(token_hash)s
), a AS (
    INSERT INTO audit_log (actor_id, actor_role, action, resource, patient_id, detail, client_addr)
    SELECT d.id, 'device', 'write', %(resource)s, d.patient_id, '{}'::jsonb, %(client_addr)s
    FROM d
    WHERE d.revoked_at IS NULL
    RETURNING 1
)
SELECT id, patient_id, token_hash, revoked_at, (SELECT count(*) FROM a) AS audited
FROM d
