# The moderation service: CPU-only torch, gunicorn with the app preloaded, migrations on start.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MODERATION_BIND=0.0.0.0:8000

WORKDIR /app

# CPU build of torch first, from PyTorch's CPU index: the default index would bring CUDA (GBs).
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# A plain (not editable) install of the wheel: templates and migrations travel inside the
# package, and requirements.lock holds every dependency at its tested version.
COPY pyproject.toml README.md requirements.lock /src/
COPY moderation /src/moderation
COPY templates /src/templates
COPY migrations /src/migrations
RUN pip install --constraint /src/requirements.lock \
        --extra-index-url https://download.pytorch.org/whl/cpu "/src[postgres]" \
    && rm -rf /src \
    && useradd --create-home --uid 10001 moderation \
    && mkdir -p /usr/local/var/moderation-instance /models \
    && chown -R moderation /usr/local/var/moderation-instance /models
# `gunicorn wsgi:app` works from here; `moderation serve` needs no file at all.
COPY wsgi.py ./

USER moderation
# The instance folder of an installed Flask app is <prefix>/var/moderation-instance (SQLite
# database, secret key, lexicon). Local model files (see `moderation model download`) can be
# mounted at /models and named with MODERATION_DETOXIFY_CHECKPOINT and MODERATION_DETOXIFY_CONFIG_DIR.
VOLUME ["/usr/local/var/moderation-instance", "/models"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"

# Migrations on start, then gunicorn (gthread workers, app and model preloaded in the master).
# A thread is held by a client for as long as it takes to send its body, so slow clients can use
# up every thread: 16 per worker (twice serve's default of 8) takes about twice as many to stall it
# (docs/deployment.md has the measurement). The real defence is a buffering reverse proxy in
# front (docs/nginx/proxy.conf); set MODERATION_TRUSTED_PROXIES=1 behind it.
ENV WEB_WORKERS=2 \
    WEB_THREADS=16 \
    WEB_TIMEOUT=60
CMD ["sh", "-c", "moderation db upgrade && exec moderation serve --bind \"$MODERATION_BIND\" --workers \"$WEB_WORKERS\" --threads \"$WEB_THREADS\" --timeout \"$WEB_TIMEOUT\""]
