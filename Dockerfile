# hotpapers: the service (`hotpapers run`) and its CLI, on Python 3.11.
# Build: docker compose build   (see docker-compose.yml and the README's "Operations" section)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib \
    HOTPAPERS_CONFIG=/etc/hotpapers/config.toml

WORKDIR /src
RUN useradd --create-home --uid 10001 hotpapers && mkdir -p /data && chown hotpapers /data

# Dependencies first, exactly as locked (versions and hashes): this layer is rebuilt only when
# requirements.lock changes, not on every code change. Refresh the lock as the README says.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# The code last; --no-deps: everything it needs is in the locked layer above.
COPY pyproject.toml README.md LICENSE ./
COPY hotpapers ./hotpapers
COPY bot ./bot
RUN pip install --no-deps .

# Runs unprivileged; the site, posts and any SQLite file live in /data (a volume).
USER hotpapers
WORKDIR /data
EXPOSE 8080 9108

# Answers 200 while the process and its database are up ("ok" or "degraded").
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=5)"]

ENTRYPOINT ["hotpapers"]
CMD ["run"]
