-- name: health_probe
SELECT
    (SELECT coalesce(max(version), 0) FROM schema_migrations) AS schema_version,
    EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS timescaledb,
    current_setting('server_version') AS server_version
