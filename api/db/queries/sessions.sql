-- name: sessions_insert
INSERT INTO sessions (patient_id, kind, started_at, ended_at, medicine, route, dose, dose_unit, setting,
                      note, created_by)
VALUES (%(patient_id)s, %(kind)s, %(started_at)s, %(ended_at)s, %(medicine)s, %(route)s, %(dose)s,
        %(dose_unit)s, %(setting)s, %(note)s, %(created_by)s)
RETURNING id, patient_id, kind, started_at, ended_at, medicine, route, dose, dose_unit, setting, note,
          created_at, updated_at

-- name: sessions_list
SELECT id, patient_id, kind, started_at, ended_at, medicine, route, dose, dose_unit, setting, note,
       created_at, updated_at
FROM sessions
WHERE patient_id = %(patient_id)s
  AND (%(start)s::timestamptz IS NULL OR started_at >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR started_at < %(end)s::timestamptz)
ORDER BY started_at, id

-- name: sessions_get
SELECT id, patient_id, kind, started_at, ended_at, medicine, route, dose, dose_unit, setting, note,
       created_at, updated_at
FROM sessions
WHERE id = %(id)s AND patient_id = %(patient_id)s

-- name: sessions_get_for_update
SELECT id, patient_id, kind, started_at, ended_at, medicine, route, dose, dose_unit, setting, note,
       created_at, updated_at
FROM sessions
WHERE id = %(id)s AND patient_id = %(patient_id)s
FOR UPDATE

-- name: sessions_update
UPDATE sessions
SET kind = %(kind)s, started_at = %(started_at)s, ended_at = %(ended_at)s, medicine = %(medicine)s,
    route = %(route)s, dose = %(dose)s, dose_unit = %(dose_unit)s, setting = %(setting)s,
    note = %(note)s, updated_at = now()
WHERE id = %(id)s AND patient_id = %(patient_id)s
RETURNING id, patient_id, kind, started_at, ended_at, medicine, route, dose, dose_unit, setting, note,
          created_at, updated_at

-- name: sessions_delete
DELETE FROM sessions WHERE id = %(id)s AND patient_id = %(patient_id)s RETURNING id, kind, medicine
