-- name: journal_insert
INSERT INTO journal_entries (patient_id, at, text, tags, mood, body, created_by)
VALUES (%(patient_id)s, %(at)s, %(text)s, %(tags)s, %(mood)s, %(body)s, %(created_by)s)
RETURNING id, patient_id, at, text, tags, mood, body, created_at, updated_at

-- name: journal_list
SELECT id, patient_id, at, text, tags, mood, body, created_at, updated_at
FROM journal_entries
WHERE patient_id = %(patient_id)s
  AND (%(start)s::timestamptz IS NULL OR at >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR at < %(end)s::timestamptz)
ORDER BY at, id

-- name: journal_get
SELECT id, patient_id, at, text, tags, mood, body, created_at, updated_at
FROM journal_entries
WHERE id = %(id)s AND patient_id = %(patient_id)s

-- name: journal_get_for_update
SELECT id, patient_id, at, text, tags, mood, body, created_at, updated_at
FROM journal_entries
WHERE id = %(id)s AND patient_id = %(patient_id)s
FOR UPDATE

-- name: journal_update
UPDATE journal_entries
SET at = %(at)s, text = %(text)s, tags = %(tags)s, mood = %(mood)s, body = %(body)s,
    updated_at = now()
WHERE id = %(id)s AND patient_id = %(patient_id)s
RETURNING id, patient_id, at, text, tags, mood, body, created_at, updated_at

-- name: journal_delete
DELETE FROM journal_entries WHERE id = %(id)s AND patient_id = %(patient_id)s RETURNING id
