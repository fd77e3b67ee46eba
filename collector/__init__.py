"""Somatrace collector: reads heartbeats from BLE chest straps, spools them durably, uploads them.

It never touches the database and never imports ``api``.
"""

__all__: list[str] = []
