-- 0081: research pseudonyms apart from the clinic's patient code. patients.pseudonym is shown on clinic
-- and admin pages (patient list, assignments), so exports identified by it could be linked back to a
-- person by anyone who sees both. Exports now use a second random code kept in its own table, which no
-- clinic or admin query reads; it is made when a patient is created (trigger), whatever code path does.

CREATE TABLE research_pseudonyms (
    patient_id uuid PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
    pseudonym  text NOT NULL UNIQUE CHECK (pseudonym ~ '^[A-Z0-9-]{6,32}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- 'R-' and 12 random hex digits (48 bits), drawn again on the (unlikely) collision.
CREATE FUNCTION somatrace_new_research_pseudonym(pid uuid) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    LOOP
        BEGIN
            INSERT INTO research_pseudonyms (patient_id, pseudonym)
            VALUES (pid, 'R-' || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 12)));
            RETURN;
        EXCEPTION WHEN unique_violation THEN
            IF EXISTS (SELECT 1 FROM research_pseudonyms WHERE patient_id = pid) THEN
                RETURN;
            END IF;
        END;
    END LOOP;
END;
$$;

CREATE FUNCTION somatrace_patient_created() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM somatrace_new_research_pseudonym(NEW.id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER patients_research_pseudonym
    AFTER INSERT ON patients
    FOR EACH ROW EXECUTE FUNCTION somatrace_patient_created();

SELECT somatrace_new_research_pseudonym(id) FROM patients;
