-- name: patients_insert
INSERT INTO patients (pseudonym, display_name, timezone, date_shift_days, created_by)
VALUES (%(pseudonym)s, %(display_name)s, %(timezone)s, %(date_shift_days)s, %(created_by)s)
ON CONFLICT (pseudonym) DO NOTHING
RETURNING id

-- name: patients_assign_creator
INSERT INTO therapist_assignments (therapist_id, patient_id) VALUES (%(therapist_id)s, %(patient_id)s)

-- name: patients_get
SELECT p.id, p.pseudonym, p.display_name, p.timezone, p.research_consent, p.journal_text_consent,
       p.consent_updated_at, p.created_at,
       EXISTS (SELECT 1 FROM users u WHERE u.patient_id = p.id) AS has_account,
       (SELECT max(d.last_seen_at) FROM devices d WHERE d.patient_id = p.id) AS last_seen_at,
       (SELECT CASE
                   WHEN l.used_at IS NOT NULL THEN 'accepted'
                   WHEN l.revoked_at IS NOT NULL THEN 'withdrawn'
                   WHEN l.expires_at <= now() THEN 'expired'
                   ELSE 'open'
               END
        FROM account_links l
        WHERE l.patient_id = p.id AND l.purpose = 'invite'
        ORDER BY l.created_at DESC
        LIMIT 1) AS invite_state
FROM patients p
WHERE p.id = %(id)s

-- name: patients_list_for_therapist
SELECT p.id, p.pseudonym, p.display_name, p.timezone, p.research_consent, p.journal_text_consent,
       p.consent_updated_at, p.created_at,
       EXISTS (SELECT 1 FROM users u WHERE u.patient_id = p.id) AS has_account,
       (SELECT max(d.last_seen_at) FROM devices d WHERE d.patient_id = p.id) AS last_seen_at,
       (SELECT CASE
                   WHEN l.used_at IS NOT NULL THEN 'accepted'
                   WHEN l.revoked_at IS NOT NULL THEN 'withdrawn'
                   WHEN l.expires_at <= now() THEN 'expired'
                   ELSE 'open'
               END
        FROM account_links l
        WHERE l.patient_id = p.id AND l.purpose = 'invite'
        ORDER BY l.created_at DESC
        LIMIT 1) AS invite_state
FROM patients p
JOIN therapist_assignments a ON a.patient_id = p.id
WHERE a.therapist_id = %(therapist_id)s
ORDER BY p.created_at, p.id

-- name: patients_update
UPDATE patients
SET display_name = coalesce(%(display_name)s, display_name),
    timezone = coalesce(%(timezone)s, timezone)
WHERE id = %(id)s
RETURNING id

-- name: patients_set_consent
UPDATE patients
SET research_consent = %(research)s,
    journal_text_consent = %(research)s AND coalesce(%(journal_text)s, journal_text_consent),
    consent_updated_at = now()
WHERE id = %(id)s
RETURNING research_consent, journal_text_consent, consent_updated_at

-- name: patients_get_consent
SELECT research_consent, journal_text_consent, consent_updated_at FROM patients WHERE id = %(id)s

-- name: patients_audit_reads
INSERT INTO audit_log (actor_id, actor_role, action, resource, patient_id, detail, client_addr)
SELECT %(actor_id)s, %(actor_role)s, 'read', %(resource)s, pid, '{}'::jsonb, %(client_addr)s
FROM unnest(%(patient_ids)s::uuid[]) AS pid
