"""Research exports: consented, pseudonymised HRV series as a streamed zip (CSV, Parquet, Kubios, FHIR, OMH).

Selection and consent are decided in ``selection``; each format writes its files; ``service`` streams the zip.
"""
