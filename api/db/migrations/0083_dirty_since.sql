-- 0083: since when a patient has had beats the worker has not analysed (kept when later uploads widen
-- the dirty range), so that the analysis lag is measurable: now() - min(dirty_since) (GET /metrics,
-- benchmarks/load.py).

ALTER TABLE analysis_dirty ADD COLUMN dirty_since timestamptz NOT NULL DEFAULT now();
