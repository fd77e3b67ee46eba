-- The researcher's view of the consented cohort: research pseudonyms (0081, never the clinic's patient
-- code) and amounts of data, never names.

-- name: cohort_list
SELECT p.id, r.pseudonym, p.journal_text_consent, p.consent_updated_at,
       count(d.day) FILTER (WHERE d.wear_hours > 0) AS days_with_data,
       count(d.day) FILTER (WHERE d.ln_rmssd IS NOT NULL) AS days_with_value,
       min(d.day) FILTER (WHERE d.wear_hours > 0) AS first_day,
       max(d.day) FILTER (WHERE d.wear_hours > 0) AS last_day
FROM patients p
JOIN research_pseudonyms r ON r.patient_id = p.id
LEFT JOIN daily_values d ON d.patient_id = p.id
WHERE p.research_consent
GROUP BY p.id, r.pseudonym
ORDER BY r.pseudonym

-- name: cohort_patient_in_range
-- Whether a consented patient has beats in [start, end), and on how many local days (worker's values).
SELECT EXISTS (
           SELECT 1 FROM beats b
           WHERE b.patient_id = %(patient_id)s AND b.t >= %(start)s AND b.t < %(end)s
       ) AS has_beats,
       (SELECT count(*) FROM daily_values d
        WHERE d.patient_id = %(patient_id)s AND d.wear_hours > 0
          AND d.day >= %(first_day)s AND d.day <= %(last_day)s) AS days_with_data

-- name: cohort_consented_count
SELECT count(*) AS n FROM patients WHERE research_consent
