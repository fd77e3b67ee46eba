# Somatrace API / worker image (used by docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SOMATRACE_DATA_DIR=/var/lib/somatrace

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY collector ./collector
COPY analysis ./analysis
COPY api ./api
COPY somatrace ./somatrace
COPY wire ./wire
RUN pip install '.[server]' \
    && useradd --system --home-dir /var/lib/somatrace --create-home somatrace

USER somatrace
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["somatrace", "serve", "--host", "0.0.0.0", "--port", "8000"]
