# syntax=docker/dockerfile:1
# The Rasa server: Python 3.10, requirements/rasa.lock, and the model trained while the image
# is built. Build from the repository's root:
#   docker build -f docker/rasa.Dockerfile -t welcome-desk-rasa .
#
# Why train here rather than copy models/: the model is built from config.yml, domain.yml,
# data/ and bot/rasa_ext, and models/ is not in git. Trained in the build, an image made from
# a clean checkout is complete, and its model always matches the code that loads it (Rasa
# loads our components from bot/rasa_ext by name). The training layer depends only on the
# training inputs, so a change elsewhere in bot/ does not retrain.

FROM python:3.10-slim AS environment
RUN pip install --no-cache-dir uv==0.13.9
COPY requirements/rasa.lock /tmp/rasa.lock
RUN uv venv --python /usr/local/bin/python3.10 /opt/venv \
    && uv pip sync --no-cache --python /opt/venv/bin/python /tmp/rasa.lock

FROM python:3.10-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONWARNINGS=ignore \
    RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    # One thread per numeric library: several would spin against each other and the
    # server's own work (docs/decisions/0014).
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    MPLCONFIGDIR=/tmp/matplotlib
# A numeric user, so that Kubernetes' runAsNonRoot can check it.
RUN groupadd --gid 10001 welcome-desk \
    && useradd --create-home --uid 10001 --gid 10001 welcome-desk
COPY --from=environment /opt/venv /opt/venv
WORKDIR /app

# The training inputs (the Makefile's TRAINING_INPUTS), then the training.
COPY config.yml domain.yml ./
COPY data/nlu data/nlu
COPY data/rules.yml data/stories.yml data/
COPY bot/__init__.py bot/languages.py bot/folding.py bot/
COPY bot/rasa_ext bot/rasa_ext
RUN rasa train --fixed-model-name welcome-desk --out models && rm -rf .rasa

# What the server needs besides the model: its endpoints and channels, and bot.settings,
# which checks every setting and gives endpoints.yml its defaults before Rasa starts.
COPY endpoints.yml credentials.yml ./
COPY bot bot

USER 10001:10001
EXPOSE 5005
# `docker run IMAGE run --enable-api ...` as with Rasa's own image (RasaHQ's Helm chart passes
# its `args` this way). No default command: the server's flags, the auth token among them,
# are chosen where it is deployed (docker-compose.yml, deploy/kubernetes/rasa-values.yaml).
ENTRYPOINT ["python", "-m", "bot.settings", "exec", "--", "rasa"]
