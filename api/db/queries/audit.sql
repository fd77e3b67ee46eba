-- name: audit_insert
INSERT INTO audit_log (actor_id, actor_role, action, resource, patient_id, detail, client_addr)
VALUES (%(actor_id)s, %(actor_role)s, %(action)s, %(resource)s, %(patient_id)s, %(detail)s,
        %(client_addr)s)

-- name: audit_list
SELECT id, at, actor_id, actor_role, action, resource, patient_id, detail, client_addr
FROM audit_log
WHERE (%(patient_id)s::uuid IS NULL OR patient_id = %(patient_id)s::uuid)
  AND (%(since)s::timestamptz IS NULL OR at >= %(since)s::timestamptz)
  AND (%(actor_id)s::uuid IS NULL OR actor_id = %(actor_id)s::uuid)
  AND (%(action)s::text IS NULL OR action = %(action)s::text)
ORDER BY at DESC, id DESC
LIMIT %(limit)s
