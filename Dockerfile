FROM python:3.11-slim-bookworm

# WeasyPrint needs pango and harfbuzz; DejaVu for text in PDFs; curl for the web healthcheck.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core curl \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir .

# Only the code that runs: the build context also holds .venv, .git and .data (the embedded
# database), none of which belongs in the image.
COPY manage.py ./
COPY config ./config
COPY core ./core
COPY stories ./stories
COPY alliance ./alliance
COPY referrals ./referrals
COPY prescribing ./prescribing
COPY clinic ./clinic
COPY templates ./templates
COPY static ./static

# Collected under the production profile, whose storage writes the manifest of hashed names
# that production serves from; collected under any other, every page fails on a missing
# manifest entry. The key and host only satisfy settings: collectstatic opens no database.
RUN CONCORD_PROFILE=production SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    CONCORD_AUDIT_KEY=collectstatic-only-never-signs-anything \
    CONCORD_MFA_KEY=SPn8dDiWJgZbQtHRVC0OX0o4cEa2ldXbl9kUnW1xHWE= \
    python manage.py collectstatic --no-input

# The code stays owned by root: the app user reads it but cannot change it. Its home takes
# fontconfig's cache (WeasyPrint).
RUN useradd --system --create-home --home-dir /home/concord concord
# Where the audit checkpoints are appended (a volume in docker-compose.yml): besides its home,
# the one place in the image the app user may write.
RUN mkdir -p /var/lib/concord-audit && chown concord /var/lib/concord-audit
USER concord

EXPOSE 8000
# The access log leaves out query strings: a patient search (?q=<name>) must not reach logs.
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--access-logformat", "%(h)s %(t)s \"%(m)s %(U)s\" %(s)s %(b)s %(L)s"]
