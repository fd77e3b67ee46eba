"""Background analysis: procrastinate jobs that recompute a patient's windows and daily values.

``queue`` records what ingest touched, ``recompute`` does the work with ``analysis``, ``runner``
runs workers (``somatrace worker``, in-process for ``serve``, or ``run_until_idle`` for demos
and tests).
"""
