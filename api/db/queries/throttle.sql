-- Login throttling (api/auth/throttle.py): counters per (account, address) pair, address and account.

-- name: throttle_ensure
-- The counter rows of one attempt, created empty so that throttle_lock can lock them.
INSERT INTO login_throttle (scope, key, failures, last_failure_at)
SELECT scope, key, 0, '-infinity'::timestamptz
FROM unnest(%(scopes)s::text[], %(keys)s::text[]) AS k(scope, key)
ON CONFLICT (scope, key) DO NOTHING

-- name: throttle_lock
-- Locks the attempt's counters until the transaction ends, so concurrent attempts (any API process)
-- see each other's counts; the clock is the database's, shared by every replica.
SELECT t.scope, t.failures, extract(epoch FROM t.last_failure_at)::double precision AS last_failure_s,
       extract(epoch FROM now())::double precision AS now_s
FROM login_throttle t
JOIN unnest(%(scopes)s::text[], %(keys)s::text[]) AS k(scope, key)
  ON t.scope = k.scope AND t.key = k.key
ORDER BY t.scope
FOR UPDATE OF t

-- name: throttle_set
-- The counters after this attempt (counted as a failure until throttle_success takes it back).
UPDATE login_throttle t SET failures = k.failures, last_failure_at = now()
FROM unnest(%(scopes)s::text[], %(keys)s::text[], %(failures)s::int[]) AS k(scope, key, failures)
WHERE t.scope = k.scope AND t.key = k.key

-- name: throttle_success
-- A correct password: the pair is forgiven, the provisional count of the address and account taken back.
WITH pair AS (
    DELETE FROM login_throttle WHERE scope = 'pair' AND key = %(pair_key)s
)
UPDATE login_throttle SET failures = greatest(failures - 1, 0)
WHERE (scope = 'address' AND key = %(address_key)s AND %(counted_address)s)
   OR (scope = 'account' AND key = %(account_key)s AND %(counted_account)s)

-- name: throttle_prune
-- Counters nobody failed on for longer than they are remembered.
DELETE FROM login_throttle WHERE last_failure_at < now() - make_interval(secs => %(forget_s)s)

-- name: throttle_known_address
SELECT EXISTS (
    SELECT 1 FROM login_known_addresses
    WHERE user_id = %(user_id)s AND client_addr = %(client_addr)s
      AND last_login_at > now() - make_interval(secs => %(known_s)s)
) AS known

-- name: throttle_remember_address
INSERT INTO login_known_addresses (user_id, client_addr) VALUES (%(user_id)s, %(client_addr)s)
ON CONFLICT (user_id, client_addr) DO UPDATE SET last_login_at = now()
