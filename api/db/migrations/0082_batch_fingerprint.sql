-- 0082: what a batch held, so that a batch id sent again with other beats is refused (409) instead of
-- being answered "all duplicates" while its beats are silently dropped. SHA-256 of the batch's beats
-- and gaps (api.ingest.validation.BeatBatch.content_sha256); NULL for batches stored before 0082.

ALTER TABLE ingest_batches ADD COLUMN content_sha256 bytea
    CHECK (content_sha256 IS NULL OR length(content_sha256) = 32);
