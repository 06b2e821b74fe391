# Hypercare image: one image for every role (API, stream worker, migrations); the command picks the role.
#   docker build -t hypercare .
#   docker run hypercare                      -> hypercare api (HTTP on 0.0.0.0:8000)
#   docker run hypercare hypercare worker     -> stream worker (health/metrics on :6066)
#   docker run hypercare hypercare db upgrade -> Alembic migrations, then exit

# --- build: install the distribution into a virtualenv that the runtime stage copies as a whole ----
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/hypercare
ENV PATH=/opt/hypercare/bin:$PATH

WORKDIR /src
# Only what `pip install .` needs (pyproject names README.md as the readme); tests and dev extras stay out.
# The import check runs from / so it loads the installed package, not the sources in /src.
# requirements/constraints.txt pins every dependency (the same pins as `make` and CI).
COPY pyproject.toml README.md ./
COPY requirements/constraints.txt ./requirements/constraints.txt
COPY hypercare ./hypercare
COPY services ./services
COPY streams ./streams
RUN pip install --upgrade pip setuptools wheel \
 && pip install -c requirements/constraints.txt . \
 && cd / && python -c "import hypercare.entrypoints.cli, services.app, streams.app"

# --- runtime ---------------------------------------------------------------------------------------
FROM python:3.11-slim

# WeasyPrint renders the daily report's PDF with Pango; DejaVu gives it the Swedish letters.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid/gid so Kubernetes can check runAsNonRoot without resolving names.
RUN groupadd --system --gid 10001 hypercare \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/hypercare --no-create-home \
      --shell /usr/sbin/nologin hypercare \
 && mkdir -p /var/lib/hypercare \
 && chown 10001:10001 /var/lib/hypercare

COPY --from=build /opt/hypercare /opt/hypercare
# The web console is static files outside the Python packages: services/app.py serves it from
# "<site-packages>/console" (next to the installed services package), so it goes exactly there.
COPY console /opt/hypercare/lib/python3.11/site-packages/console

# Containers must listen on every interface (the product's own default is 127.0.0.1).
# The working directory is writable: Faust keeps its table data directory there, relative to the cwd.
ENV PATH=/opt/hypercare/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HYPERCARE_HOST=0.0.0.0 \
    HYPERCARE_PORT=8000 \
    HYPERCARE_WORKER_WEB_PORT=6066 \
    HYPERCARE_DATA_DIR=/var/lib/hypercare

WORKDIR /var/lib/hypercare
USER 10001:10001

# 8000: API and console gateway; 6066: a stream worker's /healthz, /readyz and /metrics.
EXPOSE 8000 6066

# Liveness of the default role (the API). slim has no curl, so the stdlib does the request;
# urlopen raises on any non-2xx answer, which makes the check fail. Workers override this
# (compose) or use their own probes on port 6066 (Kubernetes ignores HEALTHCHECK).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HYPERCARE_PORT', '8000') + '/healthz', timeout=4)"]

CMD ["hypercare", "api"]
