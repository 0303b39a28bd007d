# One image for every role of JourneyOps: dashboard (default), API, scheduler and one-off jobs.
#   docker build -t journeyops:0.1.0 .
#   dashboard: (default command)      api: uvicorn --factory api.main:create_app ...
#   scheduler: python -m core scheduler    job: python -m core daily --as-of YYYY-MM-DD
# No secrets are baked in: they arrive at run time as files (JOURNEYOPS_*_FILE, see deploy/docker-entrypoint.sh).

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM python:3.11.14-slim-bookworm
LABEL org.opencontainers.image.title="JourneyOps" \
      org.opencontainers.image.description="Operations dashboard and model factory for order journeys" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    JOURNEYOPS_STORE=/data/journeyops.duckdb \
    JOURNEYOPS_MODELS=/data/models \
    JOURNEYOPS_REPORTS_DIR=/data/reports \
    JOURNEYOPS_BACKUP_DIR=/backups \
    JOURNEYOPS_ROLE=dashboard
RUN groupadd --system --gid 10001 journeyops \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin journeyops \
    && mkdir -p /app /data /backups \
    && chown 10001:10001 /data /backups
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY core/ /app/core/
COPY api/ /app/api/
COPY ui/ /app/ui/
COPY pages/ /app/pages/
COPY app.py pyproject.toml /app/
COPY .streamlit/config.toml /app/.streamlit/config.toml
COPY deploy/docker-entrypoint.sh /app/deploy/docker-entrypoint.sh
USER 10001:10001
VOLUME ["/data", "/backups"]
EXPOSE 8501 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "core", "healthcheck"]
ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]
CMD ["streamlit", "run", "app.py", "--server.headless", "true", "--server.address", "0.0.0.0", \
     "--server.port", "8501", "--browser.gatherUsageStats", "false"]
