"""The migration files themselves: naming, numbering, and the TimescaleDB / plain variants."""

from __future__ import annotations

from collections import defaultdict

from api.db.migrate import load_migrations


def test_versions_start_at_one_and_names_are_unique() -> None:
    migrations = load_migrations()
    versions = sorted({m.version for m in migrations})
    assert versions[0] == 1 and versions[1] == 2
    names = [f"{m.version:04d}_{m.name}" for m in migrations]
    assert len(names) == len(set(names))


def test_each_version_applies_exactly_once_per_flavour() -> None:
    by_version = defaultdict(list)
    for migration in load_migrations():
        by_version[migration.version].append(migration)
    for version, variants in by_version.items():
        for timescale in (True, False):
            applying = [m for m in variants if m.applies(timescale)]
            assert len(applying) == 1, (version, timescale, [m.name for m in variants])


def test_timescale_variant_declares_rollups_with_same_names_as_plain() -> None:
    two = {m.requires: m.sql_text for m in load_migrations() if m.version == 2}
    assert set(two) == {"timescaledb", "no-timescaledb"}
    for view in ("daily_beat_rollups", "daily_window_rollups"):
        assert view in two["timescaledb"] and view in two["no-timescaledb"]
    assert "timescaledb.continuous" in two["timescaledb"]
    assert "create_hypertable('beats'" in two["timescaledb"]
    assert "create_hypertable('hrv_windows'" in two["timescaledb"]
