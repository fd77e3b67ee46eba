"""Somatrace analysis: pure HRV computation, RR arrays in, typed results out (no I/O, no database)."""

__all__: list[str] = []
