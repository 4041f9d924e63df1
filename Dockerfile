# Ops Portal under gunicorn. Built by docker-compose.yml; runs on MongoDB when MONGODB_URI is
# set, otherwise on SQLite in /app/data (mount a volume there to keep it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    OPSPORTAL_SQLITE_PATH=/app/data/db.sqlite3 \
    OPSPORTAL_CACHE_DIR=/app/data/cache

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files (admin, Swagger UI and ReDoc assets) are collected into the image and served by
# whitenoise. Settings need a key to load; this throwaway one exists only during the build.
RUN SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput --verbosity 0

# The code stays root-owned and read-only for the server; only /app/data is writable.
RUN useradd --system --user-group --home-dir /app --no-create-home opsportal \
    && mkdir -p /app/data/cache \
    && chown -R opsportal:opsportal /app/data
USER opsportal

# 8080: REST, GraphQL queries and mutations (gunicorn.conf.py); 8082: GraphQL subscriptions (gunicorn.asgi.conf.py).
EXPOSE 8080
EXPOSE 8082
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]

CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn -c gunicorn.conf.py opsportal.wsgi"]
