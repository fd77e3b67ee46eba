"""Ingest of beat batches from collectors: ``validation`` (pure, against the ``wire`` contract) and
``storage`` (PostgreSQL). The HTTP route is ``api.routes.ingest``."""
