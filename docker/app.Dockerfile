# syntax=docker/dockerfile:1
# The app side (Python 3.11, requirements/app.lock): one image for the action server and the
# web app. Build from the repository's root:
#   docker build -f docker/app.Dockerfile -t welcome-desk-app .
# Web app (the default):  python -m bot.web
# Action server:          python -m actions.server (ACTION_HOST, ACTION_PORT)
# Directory migrations:   python -m bot.directory migrate (docker-compose.yml runs them
#                         before the web app starts)

FROM python:3.11-slim AS environment
RUN pip install --no-cache-dir uv==0.13.9
COPY requirements/app.lock /tmp/app.lock
RUN uv venv --python /usr/local/bin/python3.11 /opt/venv \
    && uv pip sync --no-cache --python /opt/venv/bin/python /tmp/app.lock

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1
# A numeric user, so that Kubernetes' runAsNonRoot can check it.
RUN groupadd --gid 10001 welcome-desk \
    && useradd --create-home --uid 10001 --gid 10001 welcome-desk
COPY --from=environment /opt/venv /opt/venv
WORKDIR /app
# domain.yml: the responses /nlg renders; locales/: their translations; data/directory/:
# the sample cities `python -m bot.directory load` reads.
COPY domain.yml ./
COPY locales locales
COPY data/directory data/directory
COPY actions actions
COPY bot bot

USER 10001:10001
EXPOSE 5055 8080
CMD ["python", "-m", "bot.web"]
