"""The one-command demo: demo accounts, six weeks of simulated patients seeded through the real
ingest path and worker, and a live emulated strap streaming through the collector into one patient.

Starting the database and the server is ``somatrace.demo.runner``; the command is ``somatrace.demo.command``.
"""
