-- E-mail (api/mail): the outbox, its delivery jobs, reminder choices and the reminders already sent.

-- name: mail_enqueue
-- One message and its delivery job in one statement, so a caller's transaction keeps both or neither.
WITH message AS (
    INSERT INTO mail_outbox (kind, to_user_id, to_address, subject, body, alert_id)
    VALUES (%(kind)s, %(to_user_id)s, %(to_address)s, %(subject)s, %(body)s, %(alert_id)s)
    RETURNING id
), job AS (
    INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args)
    SELECT %(queue)s, %(task)s, 'mail:' || message.id, jsonb_build_object('outbox_id', message.id)
    FROM message
    RETURNING id
)
SELECT message.id AS outbox_id, (SELECT id FROM job) AS job_id FROM message

-- name: mail_defer
-- A new delivery job for a message already in the outbox (admin retry, or reconciliation).
INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args)
VALUES (%(queue)s, %(task)s, 'mail:' || %(outbox_id)s::bigint, jsonb_build_object('outbox_id', %(outbox_id)s::bigint))
RETURNING id

-- name: mail_take
SELECT id, kind, to_address, subject, body, status, attempts
FROM mail_outbox
WHERE id = %(id)s
FOR UPDATE

-- name: mail_mark_sent
UPDATE mail_outbox
SET status = 'sent', attempts = attempts + 1, sent_at = now(), updated_at = now(), last_error = NULL
WHERE id = %(id)s

-- name: mail_mark_failed
UPDATE mail_outbox
SET status = %(status)s, attempts = attempts + %(attempted)s, last_error = %(error)s, updated_at = now()
WHERE id = %(id)s

-- name: mail_requeue
UPDATE mail_outbox
SET status = 'queued', updated_at = now()
WHERE id = %(id)s AND status IN ('failed', 'not_configured')
RETURNING id

-- name: mail_counts
SELECT status, count(*) AS n FROM mail_outbox GROUP BY status ORDER BY status

-- name: mail_problems
SELECT id, kind, to_address, status, attempts, last_error, created_at, updated_at
FROM mail_outbox
WHERE status IN ('failed', 'retrying', 'not_configured')
ORDER BY updated_at DESC, id DESC
LIMIT %(limit)s

-- name: mail_stranded
-- Messages still queued or retrying without a waiting or running delivery job (e.g. after an admin
-- cancelled jobs, or procrastinate gave up): their ids, for a new job each.
SELECT m.id
FROM mail_outbox m
WHERE m.status IN ('queued', 'retrying')
  AND NOT EXISTS (
      SELECT 1 FROM procrastinate_jobs j
      WHERE j.lock = 'mail:' || m.id AND j.status IN ('todo', 'doing')
  )
ORDER BY m.id

-- name: notifications_get
SELECT questionnaire_reminders, morning_reminders, morning_at, quiet_start, quiet_end, updated_at
FROM notification_settings
WHERE patient_id = %(patient_id)s

-- name: notifications_upsert
INSERT INTO notification_settings
    (patient_id, questionnaire_reminders, morning_reminders, morning_at, quiet_start, quiet_end)
VALUES (%(patient_id)s, %(questionnaire_reminders)s, %(morning_reminders)s, %(morning_at)s,
        %(quiet_start)s, %(quiet_end)s)
ON CONFLICT (patient_id) DO UPDATE SET
    questionnaire_reminders = excluded.questionnaire_reminders,
    morning_reminders = excluded.morning_reminders,
    morning_at = excluded.morning_at,
    quiet_start = excluded.quiet_start,
    quiet_end = excluded.quiet_end,
    updated_at = now()
RETURNING questionnaire_reminders, morning_reminders, morning_at, quiet_start, quiet_end, updated_at

-- name: notifications_account
SELECT EXISTS (SELECT 1 FROM users u WHERE u.patient_id = %(patient_id)s AND u.disabled_at IS NULL)
    AS has_login

-- name: reminders_candidates
-- Patients who opted in to any reminder and have an active login, with their choices and zone.
SELECT n.patient_id, n.questionnaire_reminders, n.morning_reminders, n.morning_at, n.quiet_start,
       n.quiet_end, p.timezone, u.id AS user_id, u.email
FROM notification_settings n
JOIN patients p ON p.id = n.patient_id
JOIN users u ON u.patient_id = n.patient_id AND u.disabled_at IS NULL
WHERE n.questionnaire_reminders OR n.morning_reminders
ORDER BY n.patient_id

-- name: reminders_sent_keys
SELECT key FROM reminder_log WHERE patient_id = %(patient_id)s AND key = ANY (%(keys)s::text[])

-- name: reminders_log
INSERT INTO reminder_log (patient_id, key)
SELECT %(patient_id)s, k FROM unnest(%(keys)s::text[]) AS k
ON CONFLICT DO NOTHING

-- name: reminders_beats_since
SELECT EXISTS (SELECT 1 FROM beats WHERE patient_id = %(patient_id)s AND t >= %(since)s) AS recorded
