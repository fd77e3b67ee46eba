-- name: devices_insert
-- A device with a token: source 'collector' (a pairing code) or 'browser' (the patient's page).
INSERT INTO devices (patient_id, token_hash, label, created_by, source)
VALUES (%(patient_id)s, %(token_hash)s, %(label)s, %(created_by)s, %(source)s)
RETURNING id, patient_id, label, created_at

-- name: devices_list
SELECT id, patient_id, label, source, created_at, revoked_at, last_seen_at, strap_address, strap_name,
       strap_model, strap_firmware, battery_pct
FROM devices
WHERE patient_id = %(patient_id)s
ORDER BY created_at, id

-- name: devices_revoke
UPDATE devices SET revoked_at = coalesce(revoked_at, now())
WHERE id = %(id)s
RETURNING id, patient_id, revoked_at
