-- Imports of beat files (api/imports/storage.py, api/routes/imports.py).

-- name: import_insert
INSERT INTO imports (patient_id, source, file_name, file_sha256, file_bytes, resolution_ms, beats,
                     accepted, duplicates, created_by)
VALUES (%(patient_id)s, %(source)s, %(file_name)s, %(file_sha256)s, %(file_bytes)s,
        %(resolution_ms)s, 0, 0, 0, %(created_by)s)
RETURNING id

-- name: import_finish
UPDATE imports SET beats = %(beats)s, accepted = %(accepted)s, duplicates = %(duplicates)s,
                   skipped = %(skipped)s, summaries = %(summaries)s, first_at = %(first_at)s,
                   last_at = %(last_at)s
WHERE id = %(import_id)s
RETURNING id, source, file_name, beats, accepted, duplicates, skipped, summaries, first_at, last_at,
          resolution_ms, created_at

-- name: import_device
-- The import device of (patient, source, device name): created once, found again on re-import.
INSERT INTO devices (patient_id, source, label, strap_name, created_by, token_hash)
VALUES (%(patient_id)s, %(source)s, %(label)s, %(label)s, %(created_by)s, NULL)
ON CONFLICT (patient_id, source, label) WHERE source NOT IN ('collector', 'browser')
DO UPDATE SET last_seen_at = now()
RETURNING id

-- name: import_summaries_insert
INSERT INTO import_summaries (device_id, patient_id, metric, start_at, end_at, value, import_id)
SELECT %(device_id)s, %(patient_id)s, s.metric, s.start_at, s.end_at, s.value, %(import_id)s
FROM unnest(%(metrics)s::text[], %(starts)s::timestamptz[], %(ends)s::timestamptz[],
            %(values)s::float8[]) AS s(metric, start_at, end_at, value)
ON CONFLICT (device_id, metric, start_at) DO NOTHING

-- name: imports_list
SELECT id, source, file_name, beats, accepted, duplicates, skipped, summaries, first_at, last_at,
       resolution_ms, created_at
FROM imports
WHERE patient_id = %(patient_id)s
ORDER BY created_at DESC, id
LIMIT %(limit)s
