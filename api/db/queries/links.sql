-- One-time account links (migration 0051, api/account_links.py).

-- name: links_revoke_open
-- A new link replaces the open ones it would compete with: the patient's invitation, or the account's
-- setup and reset links.
UPDATE account_links SET revoked_at = now()
WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
  AND ((%(patient_id)s::uuid IS NOT NULL AND purpose = 'invite' AND patient_id = %(patient_id)s::uuid)
    OR (%(user_id)s::uuid IS NOT NULL AND purpose IN ('setup', 'reset') AND user_id = %(user_id)s::uuid))

-- name: links_insert
INSERT INTO account_links (purpose, token_hash, user_id, patient_id, email, created_by, expires_at)
VALUES (%(purpose)s, %(token_hash)s, %(user_id)s, %(patient_id)s, %(email)s, %(created_by)s,
        now() + make_interval(secs => %(ttl_s)s))
RETURNING id, expires_at

-- name: links_by_hash
SELECT l.id, l.purpose, coalesce(l.email, u.email) AS email, u.display_name, l.patient_id, l.user_id,
       l.created_at, l.expires_at, l.used_at, l.revoked_at, l.expires_at <= now() AS expired,
       coalesce(u.disabled_at IS NOT NULL, false) AS account_disabled
FROM account_links l
LEFT JOIN users u ON u.id = l.user_id
WHERE l.token_hash = %(token_hash)s

-- name: links_by_hash_for_update
SELECT l.id, l.purpose, coalesce(l.email, u.email) AS email, u.display_name, l.patient_id, l.user_id,
       l.created_at, l.expires_at, l.used_at, l.revoked_at, l.expires_at <= now() AS expired,
       coalesce(u.disabled_at IS NOT NULL, false) AS account_disabled
FROM account_links l
LEFT JOIN users u ON u.id = l.user_id
WHERE l.token_hash = %(token_hash)s
FOR UPDATE OF l

-- name: links_mark_used
UPDATE account_links SET used_at = now(), user_id = coalesce(user_id, %(user_id)s)
WHERE id = %(id)s

-- name: links_list_invites
SELECT id, email, created_at, expires_at, used_at, revoked_at,
       CASE
           WHEN used_at IS NOT NULL THEN 'accepted'
           WHEN revoked_at IS NOT NULL THEN 'withdrawn'
           WHEN expires_at <= now() THEN 'expired'
           ELSE 'open'
       END AS state
FROM account_links
WHERE patient_id = %(patient_id)s AND purpose = 'invite'
ORDER BY created_at DESC, id

-- name: links_revoke_invite
UPDATE account_links SET revoked_at = coalesce(revoked_at, now())
WHERE id = %(id)s AND patient_id = %(patient_id)s AND purpose = 'invite' AND used_at IS NULL
RETURNING id

-- name: links_revoke_for_user
UPDATE account_links SET revoked_at = now()
WHERE user_id = %(user_id)s AND used_at IS NULL AND revoked_at IS NULL

-- name: users_insert_patient_login
INSERT INTO users (email, password_hash, role, patient_id, password_set_at)
VALUES (%(email)s, %(password_hash)s, 'patient', %(patient_id)s, now())
RETURNING id, role, patient_id, email, session_epoch

-- name: users_set_password
UPDATE users
SET password_hash = %(password_hash)s, password_set_at = now(), session_epoch = session_epoch + 1
WHERE id = %(id)s AND disabled_at IS NULL
RETURNING id, role, patient_id, email, session_epoch
