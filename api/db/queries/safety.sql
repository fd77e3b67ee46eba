-- Safety alerts (api/routes/safety_alerts.py) and who is told about them.

-- name: safety_alert_insert
INSERT INTO safety_alerts (patient_id, response_id, rules)
VALUES (%(patient_id)s, %(response_id)s, %(rules)s)
RETURNING id, raised_at

-- name: safety_alerts_list
SELECT a.id, a.patient_id, a.response_id, r.instrument, a.rules, a.raised_at, a.acknowledged_at,
       a.acknowledged_by, a.note
FROM safety_alerts a
JOIN questionnaire_responses r ON r.id = a.response_id
WHERE a.patient_id = %(patient_id)s
  AND (NOT %(open_only)s OR a.acknowledged_at IS NULL)
ORDER BY (a.acknowledged_at IS NULL) DESC, a.raised_at DESC, a.id

-- name: safety_alert_acknowledge
UPDATE safety_alerts
SET acknowledged_at = now(), acknowledged_by = %(user_id)s, note = %(note)s
WHERE id = %(id)s AND patient_id = %(patient_id)s AND acknowledged_at IS NULL
RETURNING id

-- name: safety_alert_get
SELECT a.id, a.patient_id, a.response_id, r.instrument, a.rules, a.raised_at, a.acknowledged_at,
       a.acknowledged_by, a.note
FROM safety_alerts a
JOIN questionnaire_responses r ON r.id = a.response_id
WHERE a.id = %(id)s AND a.patient_id = %(patient_id)s

-- name: safety_open_counts
SELECT patient_id, count(*) AS n
FROM safety_alerts
WHERE acknowledged_at IS NULL AND patient_id = ANY (%(patient_ids)s::uuid[])
GROUP BY patient_id

-- name: safety_assigned_therapists
SELECT u.id, u.email
FROM therapist_assignments t
JOIN users u ON u.id = t.therapist_id
WHERE t.patient_id = %(patient_id)s AND u.disabled_at IS NULL AND u.role = 'therapist'
ORDER BY u.email

-- name: safety_active_admins
SELECT id, email FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY email
