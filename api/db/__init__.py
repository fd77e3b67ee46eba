"""Database layer: connection pool, numbered SQL migrations and named queries (psycopg 3)."""
