# syntax=docker/dockerfile:1
#
# UNTESTED: no Docker engine runs in this project's CI, so this file has never been built
# there. It only uses the documented commands (`pip install .`, `fake-twilio serve`,
# `reference-backend serve`); please report what breaks.
#
# Two images from one file:
#
#   docker build -t fake-twilio .                                    # the default (last) stage
#   docker run --rm -p 8080:8080 fake-twilio
#       -> a fake Twilio on http://localhost:8080 (credentials: `docker run --rm fake-twilio
#          fake-twilio credentials`); FAKE_TWILIO_* variables and flags work as documented,
#          e.g. -e FAKE_TWILIO_WEBHOOK_REWRITES="https://my-app.example=http://backend:3000"
#
#   docker build --target reference-backend -t reference-backend .
#   docker run --rm -p 3000:3000 -e LIVE_BACKEND_TWILIO_URL=http://fake:8080 \
#       -e LIVE_BACKEND_PASSCODE=12345678901234 reference-backend
#       -> the reference backend (without LIVE_BACKEND_TWILIO_URL or Twilio credentials it
#          embeds its own fake). The same from the default image by overriding the command:
#          docker run ... fake-twilio reference-backend serve --host 0.0.0.0 --port 3000
#
#   live-conformance is in both images:
#   docker run --rm --network host fake-twilio live-conformance run http://127.0.0.1:3000 ...

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY . .
RUN python -m pip install . \
    && cd / && rm -rf /build \
    && useradd --create-home --uid 10001 app
USER app
WORKDIR /home/app

FROM base AS reference-backend
EXPOSE 3000
CMD ["reference-backend", "serve", "--host", "0.0.0.0", "--port", "3000"]

FROM base AS fake-twilio
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/_fake/health', timeout=2)"]
CMD ["fake-twilio", "serve", "--host", "0.0.0.0", "--port", "8080"]
