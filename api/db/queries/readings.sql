-- name: readings_upsert
-- A guided reading recorded in the patient's browser (issue 13): stored once per id; a re-sent id
-- returns the stored row (compared by the caller).
WITH ins AS (
    INSERT INTO readings (id, patient_id, device_id, kind, started_at, ended_at, planned_s)
    VALUES (%(id)s, %(patient_id)s, %(device_id)s, 'morning', %(started_at)s, %(ended_at)s,
            %(planned_s)s)
    ON CONFLICT (id) DO NOTHING
    RETURNING id, patient_id, device_id, kind, started_at, ended_at, planned_s, created_at,
              true AS created
)
SELECT * FROM ins
UNION ALL
SELECT id, patient_id, device_id, kind, started_at, ended_at, planned_s, created_at, false AS created
FROM readings WHERE id = %(id)s AND NOT EXISTS (SELECT 1 FROM ins)

-- name: readings_get
SELECT r.id, r.patient_id, r.device_id, r.kind, r.started_at, r.ended_at, r.planned_s,
       r.created_at, p.timezone
FROM readings r JOIN patients p ON p.id = r.patient_id
WHERE r.id = %(id)s AND r.patient_id = %(patient_id)s

-- name: readings_list
SELECT r.id, r.patient_id, r.device_id, r.kind, r.started_at, r.ended_at, r.planned_s,
       r.created_at,
       (SELECT count(*) FROM beats b
        WHERE b.device_id = r.device_id AND b.t >= r.started_at AND b.t < r.ended_at) AS beats
FROM readings r
WHERE r.patient_id = %(patient_id)s
ORDER BY r.started_at DESC, r.id
LIMIT %(limit)s

-- name: readings_beats
-- The beats of one reading, in time order: end time (epoch s) and RR (ms).
SELECT extract(epoch FROM t)::double precision AS t_s, rr_ms
FROM beats
WHERE device_id = %(device_id)s AND t >= %(started_at)s AND t < %(ended_at)s
ORDER BY t
