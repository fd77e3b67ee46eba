-- name: users_insert
-- An account with the password it was given.
INSERT INTO users (email, password_hash, role, display_name, patient_id, password_set_at)
VALUES (%(email)s, %(password_hash)s, %(role)s, %(display_name)s, %(patient_id)s, now())
RETURNING id, email, role, display_name, patient_id, created_at, disabled_at,
          password_set_at IS NOT NULL AS password_set, 0::bigint AS patients

-- name: users_insert_pending
-- A staff account that sets its own password through a setup link; until then no password matches
-- (the stored value is not a valid hash, which verification treats as no match).
INSERT INTO users (email, password_hash, role, display_name)
VALUES (%(email)s, '!unset', %(role)s, %(display_name)s)
RETURNING id, email, role, display_name, patient_id, created_at, disabled_at,
          password_set_at IS NOT NULL AS password_set, 0::bigint AS patients

-- name: users_list
SELECT u.id, u.email, u.role, u.display_name, u.patient_id, u.created_at, u.disabled_at,
       u.password_set_at IS NOT NULL AS password_set,
       (SELECT count(*) FROM therapist_assignments a WHERE a.therapist_id = u.id) AS patients
FROM users u
WHERE (%(role)s::text IS NULL OR u.role = %(role)s::text)
ORDER BY u.created_at, u.id

-- name: users_get
SELECT u.id, u.email, u.role, u.display_name, u.patient_id, u.created_at, u.disabled_at,
       u.password_set_at IS NOT NULL AS password_set,
       (SELECT count(*) FROM therapist_assignments a WHERE a.therapist_id = u.id) AS patients
FROM users u
WHERE u.id = %(id)s

-- name: users_disable
-- Deactivation also ends every session of the account (its tokens carry the old epoch).
UPDATE users SET disabled_at = coalesce(disabled_at, now()), session_epoch = session_epoch + 1
WHERE id = %(id)s
RETURNING id, email, role

-- name: users_enable
UPDATE users SET disabled_at = NULL
WHERE id = %(id)s
RETURNING id

-- name: users_count_admins_active
SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL

-- name: users_patient_login
SELECT id, email, created_at, disabled_at, password_set_at FROM users WHERE patient_id = %(patient_id)s

-- name: assignments_insert
INSERT INTO therapist_assignments (therapist_id, patient_id)
SELECT u.id, p.id
FROM users u, patients p
WHERE u.id = %(therapist_id)s AND u.role = 'therapist' AND p.id = %(patient_id)s
ON CONFLICT (therapist_id, patient_id) DO UPDATE SET assigned_at = therapist_assignments.assigned_at
RETURNING therapist_id, patient_id, assigned_at

-- name: assignments_list
SELECT a.therapist_id, a.patient_id, p.pseudonym, a.assigned_at, t.email AS therapist_email,
       t.display_name AS therapist_name
FROM therapist_assignments a
JOIN patients p ON p.id = a.patient_id
JOIN users t ON t.id = a.therapist_id
WHERE (%(therapist_id)s::uuid IS NULL OR a.therapist_id = %(therapist_id)s::uuid)
  AND (%(patient_id)s::uuid IS NULL OR a.patient_id = %(patient_id)s::uuid)
ORDER BY a.assigned_at, a.therapist_id, a.patient_id

-- name: assignments_delete
DELETE FROM therapist_assignments
WHERE therapist_id = %(therapist_id)s AND patient_id = %(patient_id)s
RETURNING therapist_id

-- name: assignments_patients
-- Every patient for the admin's assignment page: pseudonym and who is assigned, never the name.
SELECT p.id AS patient_id, p.pseudonym, p.created_at,
       EXISTS (SELECT 1 FROM users u WHERE u.patient_id = p.id) AS has_account,
       coalesce(array_agg(a.therapist_id ORDER BY a.assigned_at) FILTER (WHERE a.therapist_id IS NOT NULL),
                '{}') AS therapist_ids
FROM patients p
LEFT JOIN therapist_assignments a ON a.patient_id = p.id
GROUP BY p.id
ORDER BY p.created_at, p.id
