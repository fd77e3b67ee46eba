-- Questionnaires (api/instruments, api/routes/questionnaires.py): responses, protocols, schedule inputs.

-- name: q_response_insert
INSERT INTO questionnaire_responses
    (patient_id, instrument, instrument_version, at, answers, total, severity, subscales, source, entered_by)
VALUES (%(patient_id)s, %(instrument)s, %(instrument_version)s, %(at)s, %(answers)s, %(total)s,
        %(severity)s, %(subscales)s, %(source)s, %(entered_by)s)
RETURNING id, patient_id, instrument, instrument_version, at, answers, total, severity, subscales,
          source, created_at

-- name: q_responses_list
SELECT r.id, r.patient_id, r.instrument, r.instrument_version, r.at, r.answers, r.total, r.severity,
       r.subscales, r.source, r.created_at,
       EXISTS (SELECT 1 FROM safety_alerts a WHERE a.response_id = r.id) AS safety_alert
FROM questionnaire_responses r
WHERE r.patient_id = %(patient_id)s
  AND (%(instrument)s::text IS NULL OR r.instrument = %(instrument)s::text)
  AND (%(start)s::timestamptz IS NULL OR r.at >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR r.at < %(end)s::timestamptz)
ORDER BY r.at, r.id

-- name: q_response_get
SELECT r.id, r.patient_id, r.instrument, r.instrument_version, r.at, r.answers, r.total, r.severity,
       r.subscales, r.source, r.created_at,
       EXISTS (SELECT 1 FROM safety_alerts a WHERE a.response_id = r.id) AS safety_alert
FROM questionnaire_responses r
WHERE r.id = %(id)s AND r.patient_id = %(patient_id)s

-- name: q_response_refs
SELECT id, instrument, at, total, severity
FROM questionnaire_responses
WHERE patient_id = %(patient_id)s
ORDER BY at, id

-- name: q_schedule_patient
SELECT p.timezone, p.created_at, qp.template, qp.protocol, qp.updated_at
FROM patients p
LEFT JOIN questionnaire_protocols qp ON qp.patient_id = p.id
WHERE p.id = %(patient_id)s

-- name: q_schedule_sessions
SELECT id, kind, started_at FROM sessions WHERE patient_id = %(patient_id)s ORDER BY started_at, id

-- name: q_protocol_upsert
INSERT INTO questionnaire_protocols (patient_id, template, protocol, updated_by)
VALUES (%(patient_id)s, %(template)s, %(protocol)s, %(updated_by)s)
ON CONFLICT (patient_id) DO UPDATE SET
    template = excluded.template, protocol = excluded.protocol,
    updated_by = excluded.updated_by, updated_at = now()
RETURNING updated_at

-- name: q_last_response_at
-- The latest answer per instrument of each listed patient (for the therapist's patient list).
SELECT patient_id, instrument, max(at) AS at
FROM questionnaire_responses
WHERE patient_id = ANY (%(patient_ids)s::uuid[])
GROUP BY patient_id, instrument

-- name: export_responses
SELECT r.id, r.instrument, r.instrument_version, r.at, r.answers, r.total, r.severity, r.subscales,
       r.source, EXISTS (SELECT 1 FROM safety_alerts a WHERE a.response_id = r.id) AS safety_alert
FROM questionnaire_responses r
WHERE r.patient_id = %(patient_id)s AND r.at >= %(start)s AND r.at < %(end)s
ORDER BY r.at, r.id

-- name: q_patient_login
SELECT id FROM users WHERE patient_id = %(patient_id)s

-- name: q_schedule_patients_many
SELECT p.id AS patient_id, p.timezone, p.created_at, qp.template, qp.protocol, qp.updated_at
FROM patients p
LEFT JOIN questionnaire_protocols qp ON qp.patient_id = p.id
WHERE p.id = ANY (%(patient_ids)s::uuid[])

-- name: q_schedule_sessions_many
SELECT patient_id, id, kind, started_at FROM sessions
WHERE patient_id = ANY (%(patient_ids)s::uuid[])
ORDER BY patient_id, started_at, id

-- name: q_response_refs_many
SELECT patient_id, id, instrument, at, total, severity
FROM questionnaire_responses
WHERE patient_id = ANY (%(patient_ids)s::uuid[])
ORDER BY patient_id, at, id
