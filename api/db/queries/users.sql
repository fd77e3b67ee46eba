-- name: users_insert
INSERT INTO users (email, password_hash, role, display_name, patient_id)
VALUES (%(email)s, %(password_hash)s, %(role)s, %(display_name)s, %(patient_id)s)
RETURNING id, email, role, display_name, patient_id, created_at, disabled_at

-- name: users_list
SELECT id, email, role, display_name, patient_id, created_at, disabled_at
FROM users
WHERE (%(role)s::text IS NULL OR role = %(role)s::text)
ORDER BY created_at, id

-- name: users_get
SELECT id, email, role, display_name, patient_id, created_at, disabled_at
FROM users
WHERE id = %(id)s

-- name: users_disable
UPDATE users SET disabled_at = coalesce(disabled_at, now())
WHERE id = %(id)s
RETURNING id

-- name: users_count_admins_active
SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL

-- name: assignments_insert
INSERT INTO therapist_assignments (therapist_id, patient_id)
SELECT u.id, p.id
FROM users u, patients p
WHERE u.id = %(therapist_id)s AND u.role = 'therapist' AND p.id = %(patient_id)s
ON CONFLICT (therapist_id, patient_id) DO UPDATE SET assigned_at = therapist_assignments.assigned_at
RETURNING therapist_id, patient_id, assigned_at

-- name: assignments_list
SELECT a.therapist_id, a.patient_id, p.pseudonym, a.assigned_at
FROM therapist_assignments a
JOIN patients p ON p.id = a.patient_id
WHERE (%(therapist_id)s::uuid IS NULL OR a.therapist_id = %(therapist_id)s::uuid)
  AND (%(patient_id)s::uuid IS NULL OR a.patient_id = %(patient_id)s::uuid)
ORDER BY a.assigned_at, a.therapist_id, a.patient_id

-- name: assignments_delete
DELETE FROM therapist_assignments
WHERE therapist_id = %(therapist_id)s AND patient_id = %(patient_id)s
RETURNING therapist_id
