-- name: devices_insert
INSERT INTO devices (patient_id, token_hash, label, created_by)
VALUES (%(patient_id)s, %(token_hash)s, %(label)s, %(created_by)s)
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

-- name: devices_insert_browser
-- A browser's device token (issue 13): like a collector's, with source 'browser'.
INSERT INTO devices (patient_id, token_hash, label, created_by, source)
VALUES (%(patient_id)s, %(token_hash)s, %(label)s, %(created_by)s, 'browser')
RETURNING id, patient_id, label, created_at
