-- name: audit_insert
INSERT INTO audit_log (actor_id, actor_role, action, resource, patient_id, detail, client_addr)
VALUES (%(actor_id)s, %(actor_role)s, %(action)s, %(resource)s, %(patient_id)s, %(detail)s,
        %(client_addr)s)

-- name: audit_list
-- Newest first, with who acted (account email and name, or the device's label) and the patient's
-- pseudonym (never a name); before_id pages further back.
SELECT a.id, a.at, a.actor_id, a.actor_role, a.action, a.resource, a.patient_id, a.detail, a.client_addr,
       u.email AS actor_email, u.display_name AS actor_name, d.label AS device_label,
       p.pseudonym AS patient_pseudonym
FROM audit_log a
LEFT JOIN users u ON u.id = a.actor_id
LEFT JOIN devices d ON a.actor_role = 'device' AND d.id = a.actor_id
LEFT JOIN patients p ON p.id = a.patient_id
WHERE (%(patient_id)s::uuid IS NULL OR a.patient_id = %(patient_id)s::uuid)
  AND (%(pseudonym)s::text IS NULL OR p.pseudonym = %(pseudonym)s::text)
  AND (%(since)s::timestamptz IS NULL OR a.at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR a.at < %(until)s::timestamptz)
  AND (%(actor_id)s::uuid IS NULL OR a.actor_id = %(actor_id)s::uuid)
  AND (%(action)s::text IS NULL OR a.action = %(action)s::text)
  AND (%(before_id)s::bigint IS NULL OR a.id < %(before_id)s::bigint)
ORDER BY a.at DESC, a.id DESC
LIMIT %(limit)s

-- name: audit_actions
-- The distinct actions in the log, read from the (action, at) index one value at a time.
WITH RECURSIVE actions AS (
    (SELECT action FROM audit_log ORDER BY action LIMIT 1)
    UNION ALL
    SELECT (SELECT a.action FROM audit_log a WHERE a.action > actions.action ORDER BY a.action LIMIT 1)
    FROM actions
    WHERE actions.action IS NOT NULL
)
SELECT action FROM actions WHERE action IS NOT NULL
