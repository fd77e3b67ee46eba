-- 0041: where a day's beats came from (hrv_windows.source of the windows behind its value: collector,
-- browser or an import format), so that trends compare one way of measuring at a time.

ALTER TABLE daily_values ADD COLUMN beat_source text;
