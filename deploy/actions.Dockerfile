# The action server image (python -m actions.server): lean, without the model, TensorFlow or
# spaCy. Our actions import only rasa_sdk (which brings Sanic), PyYAML, SQLAlchemy (the review
# queue, in PostgreSQL through psycopg2) and the shared core (assistant/), so only those are
# installed, at the versions requirements.lock pins (used as constraints: the same single
# resolution, a subset of it). Build from the repository root:
#
#   docker build -f deploy/actions.Dockerfile -t spine-faq-actions:1.0.0 .
#
# tests/unit/test_deploy.py checks that actions/ and assistant/ import nothing beyond this set,
# and the build imports every action below, so a new dependency fails early, not in production.

# python:3.10.21-slim (Debian trixie) as published on 1 Sep 2026: the multi-platform index digest.
FROM python:3.10.21-slim@sha256:fd76ade0c607f27677bc04be3c60749f400eedc941d9e72967e19a4cedff80c2

ENV PYTHONHASHSEED=0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HOME=/tmp \
    ASSISTANT_VAR=/app/var

WORKDIR /app

# setuptools (pinned by the lock too) builds our editable install below.
COPY requirements.lock ./
RUN python -m pip install -c requirements.lock rasa-sdk PyYAML SQLAlchemy psycopg2-binary setuptools Faker phonenumbers \
 && python -m pip check

# Our packages, installed in place (pyproject.toml lists every room, so all are copied; the action
# server imports only actions/, assistant/, stores/review_queue.py and stores/redaction.py), and the content files the
# actions read.
COPY pyproject.toml config.yml domain.yml ./
COPY assistant/ assistant/
COPY actions/ actions/
COPY nlu/ nlu/
COPY safety/ safety/
COPY stores/ stores/
COPY rasa_patches/ rasa_patches/
COPY channels/ channels/
COPY spacy_pipeline/ spacy_pipeline/
COPY data/ data/
COPY source/ source/
RUN python -m pip install --no-deps --no-build-isolation -e . \
 && python -m compileall -q assistant actions \
 && python -c "from rasa_sdk.executor import ActionExecutor; ActionExecutor().register_package('actions')"

# An unprivileged user that owns nothing but var/ (the review queue's SQLite file outside the
# production profile).
RUN groupadd --system --gid 10001 assistant \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin assistant \
 && mkdir -p /app/var \
 && chown 10001:10001 /app/var \
 && chmod 0700 /app/var
USER 10001:10001

# It listens on 127.0.0.1 unless ACTION_SERVER_HOST says otherwise: beside the Rasa server in one
# pod (deploy/k8s/), loopback is all it needs. ACTION_SERVER_TOKEN is required at start.
EXPOSE 5055
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
CMD ["python", "-m", "actions.server", "--port", "5055"]
