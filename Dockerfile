# One image for every process: web (gunicorn, the default command), worker, beat and the
# one-shot migrate job (see docker-compose.yml). Keep in step with omnilog/launcher.py.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The source tree comes first on the path, so BASE_DIR is /app (templates, static).
    PYTHONPATH=/app \
    OMNILOG_VAR_DIR=/app/var \
    DJANGO_SETTINGS_MODULE=omnilog.settings.production

WORKDIR /app

RUN groupadd --system --gid 10001 omnilog \
    && useradd --system --uid 10001 --gid omnilog --home-dir /app --no-create-home omnilog

# Dependencies first, from pyproject.toml pinned by the constraints file: this layer is
# rebuilt only when one of the two changes, not on every code change.
COPY pyproject.toml ./
COPY requirements/constraints.txt requirements/constraints.txt
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c requirements/constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (dependencies are already satisfied, so this only adds Omnilog).
COPY . .
RUN pip install -c requirements/constraints.txt . \
    && rm -rf build ./*.egg-info \
    && mkdir -p /app/var /app/state \
    && chown omnilog:omnilog /app/var /app/state

USER omnilog

# Static files are collected into the image (served by WhiteNoise). Production settings
# insist on these three variables; dummy values are enough, nothing connects: `python -m
# django` rather than manage.py, which would connect to create the database if missing.
RUN SECRET_KEY=collectstatic-only \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python -m django collectstatic --no-input --verbosity 0

EXPOSE 8000

CMD ["gunicorn", "omnilog.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-", "--graceful-timeout", "30"]
