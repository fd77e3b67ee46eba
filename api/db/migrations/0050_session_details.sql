-- 0050: structured medicine sessions (medicine, route, dose with unit, setting) beside the free-text note.
-- Only medicine sessions carry these fields. Existing medicine sessions get what their note names
-- (e.g. "Esketamine 84 mg intranasal"); what a note does not name stays NULL ("not recorded"); the API
-- requires medicine and route for every new or replaced medicine session (api/routes/sessions.py).

ALTER TABLE sessions
    ADD COLUMN medicine  text CHECK (medicine IN ('ketamine', 'esketamine', 'other')),
    ADD COLUMN route     text CHECK (route IN ('iv', 'im', 'intranasal', 'sublingual_oral')),
    ADD COLUMN dose      numeric(10, 3) CHECK (dose > 0),
    ADD COLUMN dose_unit text CHECK (dose_unit IN ('mg', 'mg/kg')),
    ADD COLUMN setting   text CHECK (length(setting) BETWEEN 1 AND 200),
    ADD CONSTRAINT sessions_details_only_medicine CHECK (
        kind = 'medicine'
        OR (medicine IS NULL AND route IS NULL AND dose IS NULL AND dose_unit IS NULL AND setting IS NULL)
    ),
    ADD CONSTRAINT sessions_dose_has_unit CHECK ((dose IS NULL) = (dose_unit IS NULL));

-- Backfill from the notes of existing medicine sessions (whole words, any case). The update touches
-- none of the columns that 0023's trigger watches, so no recompute is queued.
UPDATE sessions AS s
SET medicine = CASE
        WHEN s.note ~* '\mesketamine\M|\mspravato\M' THEN 'esketamine'
        WHEN s.note ~* '\m(r-)?ketamine\M' THEN 'ketamine'
    END,
    route = CASE
        WHEN s.note ~* '\m(iv|intravenous(ly)?|infusion)\M' THEN 'iv'
        WHEN s.note ~* '\m(im|intramuscular(ly)?|injection)\M' THEN 'im'
        WHEN s.note ~* '\m(intranasal(ly)?|nasal|spray)\M' THEN 'intranasal'
        WHEN s.note ~* '\m(sublingual(ly)?|oral(ly)?|lozenges?|troches?)\M' THEN 'sublingual_oral'
    END,
    dose = nullif(replace(d.m[1], ',', '.')::numeric, 0),
    dose_unit = CASE
        WHEN d.m IS NULL OR replace(d.m[1], ',', '.')::numeric = 0 THEN NULL
        WHEN d.m[2] ~* 'kg' THEN 'mg/kg'
        ELSE 'mg'
    END
FROM (
    SELECT id, regexp_match(note, '(?:^|[^\d.,])(\d{1,6}(?:[.,]\d{1,3})?)\s*(mg\s*/\s*kg|mg)\M', 'i') AS m
    FROM sessions
    WHERE kind = 'medicine' AND note IS NOT NULL
) AS d
WHERE s.id = d.id;
