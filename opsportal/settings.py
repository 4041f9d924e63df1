"""Ops Portal settings.

Everything configurable comes from the environment (and a `.env` file in the project
root when present); `.env.example` documents every variable with its default.
The SQLite/MongoDB switch lives in `opsportal.database` (DESIGN §3).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from opsportal import database as database_settings
from opsportal.env import env_bool, env_int, env_list, env_str
from opsportal.limits import MAX_BODY_BYTES
from opsportal.proxies import parse_trusted_proxies

BASE_DIR = Path(__file__).resolve().parent.parent

# A .env file never overrides variables that are already set in the environment.
load_dotenv(BASE_DIR / ".env", override=False)

DEFAULT_SECRET_KEY = "django-insecure-opsportal-development-key-change-me"  # noqa: S105

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not DEBUG and SECRET_KEY in ("", DEFAULT_SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a unique, secret value when DEBUG is off (set the SECRET_KEY variable)."
    )
SECRET_KEY = SECRET_KEY or DEFAULT_SECRET_KEY

# Keys the audit trail's hash chain and signs its heads and checkpoints (issue #10). Separate from
# SECRET_KEY: rotating the session key must not break the trail, and whoever can recompute the chain
# without this key is caught by `verify`. Refused like SECRET_KEY when DEBUG is off.
DEFAULT_AUDIT_SIGNING_KEY = "opsportal-development-audit-signing-key-change-me"
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY", "")
if not DEBUG and AUDIT_SIGNING_KEY in ("", DEFAULT_AUDIT_SIGNING_KEY, SECRET_KEY):
    raise ImproperlyConfigured(
        "AUDIT_SIGNING_KEY must be set to a unique, secret value, different from SECRET_KEY, when DEBUG is off "
        "(set the AUDIT_SIGNING_KEY variable)."
    )
AUDIT_SIGNING_KEY = AUDIT_SIGNING_KEY or DEFAULT_AUDIT_SIGNING_KEY
# The Ed25519 private key that signs release evidence (issue #13; PEM, or a 32-byte seed in hex/base64).
# Unset: derived from AUDIT_SIGNING_KEY (`evidence.keys`), so it is as secret and as stable as that key.
EVIDENCE_SIGNING_KEY = env_str("EVIDENCE_SIGNING_KEY", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if not DEBUG else "*")
HOST = env_str("HOST", "0.0.0.0")  # noqa: S104 - a server binds all interfaces by default, like the predecessor
PORT = env_int("PORT", 8080)
APP_VERSION = "1.0.0"

MONGODB_URI = env_str("MONGODB_URI", "")
USING_MONGODB = bool(MONGODB_URI)

INSTALLED_APPS = [
    # contrib apps: stock on SQLite, ObjectId-keyed Mongo configs on MongoDB (opsportal.database).
    *database_settings.contrib_apps(MONGODB_URI),
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_jsonform",
    "opsportal.apps.OpsPortalConfig",
    "audit",
    "tokens",
    "teams",
    "environments",
    "workflows",
    "releases",
    "dashboard",
    "events",
    "incidents",
    "evidence",
    "graphql_api",
    *database_settings.backend_apps(MONGODB_URI),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "opsportal.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "opsportal.middleware.WriteQueueMiddleware",
]

ROOT_URLCONF = "opsportal.urls"
WSGI_APPLICATION = "opsportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

SQLITE_PATH = env_str("OPSPORTAL_SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
DATABASES = {"default": database_settings.default_database(MONGODB_URI, SQLITE_PATH)}
DATABASE_ROUTERS = database_settings.routers(MONGODB_URI)
MIGRATION_MODULES = database_settings.migration_modules(MONGODB_URI)
DEFAULT_AUTO_FIELD = database_settings.default_auto_field(MONGODB_URI)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# `manage.py loaddata sample_data` finds fixtures/sample_data.json (the quick start loads it).
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or "pytest" in sys.modules
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- CORS: the web frontend runs on :3000/:3001 in development.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "http://localhost:3000,http://localhost:3001")
CORS_EXPOSE_HEADERS = ["ETag", "Location", "X-Request-ID", "Retry-After"]

# --- Input limits (opsportal.limits; README "Limits, client address and failures"): a larger body → 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES

# --- Client address (opsportal.proxies): X-Forwarded-For is believed only from these proxies, or
# this many (e.g. "1"); empty: none, the peer of the connection is the client.
TRUSTED_PROXIES = parse_trusted_proxies(env_str("TRUSTED_PROXIES", ""))

# --- REST framework
ANONYMOUS_READ = env_bool("OPSPORTAL_ANONYMOUS_READ", False)

# GraphQL subscriptions (WebSocket) are served by the ASGI server beside the REST one (gunicorn.asgi.conf.py,
# README "GraphQL"): GraphiQL points its subscriptions there. GRAPHQL_WS_URL, when set, wins (behind a proxy).
GRAPHQL_WS_PORT = env_int("GRAPHQL_WS_PORT", 8082)
GRAPHQL_WS_URL = env_str("GRAPHQL_WS_URL", "")
# How long a POST's Idempotency-Key claim is owned by the request that made it: a retry after
# that (the request died) takes the key over (`opsportal.services`).
OPSPORTAL_IDEMPOTENCY_LEASE_SECONDS = env_int("OPSPORTAL_IDEMPOTENCY_LEASE_SECONDS", 60)

# `manage.py demo_setup` (docker-compose.yml runs it on start): sample data and a first admin when on.
OPSPORTAL_DEMO = env_bool("OPSPORTAL_DEMO", False)

# --- Events, webhooks and the worker (issue #11; README "Webhooks and events").
# Webhook targets on private, loopback or link-local addresses are refused (checked after DNS
# resolution) unless this is on: the demo (`dev.py run`) and the tests send to loopback receivers.
OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("OPSPORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS = env_int("OPSPORTAL_WEBHOOK_TIMEOUT_SECONDS", 10)
OPSPORTAL_WEBHOOK_RETRY_HOURS = env_int("OPSPORTAL_WEBHOOK_RETRY_HOURS", 72)
OPSPORTAL_WEBHOOK_SECRET_GRACE_HOURS = env_int("OPSPORTAL_WEBHOOK_SECRET_GRACE_HOURS", 24)
OPSPORTAL_DELIVERY_RETENTION_DAYS = env_int("OPSPORTAL_DELIVERY_RETENTION_DAYS", 30)
OPSPORTAL_WORKER_LEASE_SECONDS = env_int("OPSPORTAL_WORKER_LEASE_SECONDS", 60)
OPSPORTAL_EVENT_SOURCE = env_str("OPSPORTAL_EVENT_SOURCE", "/opsportal")

# DORA metrics (issue #13, `releases.dora`): what counts as a failed change — `deployments` (failed or rolled
# back) or `incidents` (linked to an incident) — and how soon after a failure a deployment counts as rework.
OPSPORTAL_DORA_FAILURE_SOURCE = env_str("OPSPORTAL_DORA_FAILURE_SOURCE", "deployments")
if OPSPORTAL_DORA_FAILURE_SOURCE not in ("deployments", "incidents"):
    raise ImproperlyConfigured("OPSPORTAL_DORA_FAILURE_SOURCE must be 'deployments' or 'incidents'.")
OPSPORTAL_DORA_REWORK_WINDOW_HOURS = env_int("OPSPORTAL_DORA_REWORK_WINDOW_HOURS", 24)
OPSPORTAL_SSE_HEARTBEAT_SECONDS = env_int("OPSPORTAL_SSE_HEARTBEAT_SECONDS", 15)
OPSPORTAL_SSE_MAX_SECONDS = env_int("OPSPORTAL_SSE_MAX_SECONDS", 600)
# Each open stream holds one of a gunicorn worker's WEB_THREADS threads (gunicorn.conf.py): beyond this many per
# worker process a new stream gets 503 + Retry-After, so that the remaining threads keep serving the API.
OPSPORTAL_SSE_MAX_STREAMS = env_int("OPSPORTAL_SSE_MAX_STREAMS", max(1, env_int("WEB_THREADS", 128) - 32))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # API tokens (`Bearer opt_…`) first: JWT would reject them; any other Bearer value falls through to JWT.
        "tokens.authentication.ApiTokenAuthentication",
        # simplejwt, with the user and roles cached per token for 30 s at most (issue #18).
        "opsportal.api.authentication.CachedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "opsportal.api.permissions.ReadAnonymousIfAllowed",
        # A request made with an API token does only what the token's scopes allow.
        "tokens.permissions.ApiTokenScopes",
    ],
    "DEFAULT_PAGINATION_CLASS": "opsportal.api.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        # `?ordering=` plus the primary key, so ties keep one order on SQLite and MongoDB alike.
        "opsportal.api.filters.TotalOrderingFilter",
    ],
    # JSON in: embedded documents don't fit form encoding (the browsable API posts raw JSON). The parser
    # enforces the input limits (opsportal.limits); the renderers draw stored lone surrogates as U+FFFD.
    "DEFAULT_PARSER_CLASSES": ["opsportal.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "opsportal.api.renderers.JSONRenderer",
        "opsportal.api.renderers.BrowsableAPIRenderer",
    ],
    # Tags by resource, readable operation ids, required response fields, errors and headers (issue #14).
    "DEFAULT_SCHEMA_CLASS": "opsportal.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "opsportal.api.exceptions.exception_handler",
    # Keyed on the client address of opsportal.proxies (TRUSTED_PROXIES), not on any X-Forwarded-For.
    "DEFAULT_THROTTLE_CLASSES": [
        "opsportal.api.throttling.AnonRateThrottle",
        "opsportal.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("OPSPORTAL_THROTTLE_ANON", "120/min"),
        "user": env_str("OPSPORTAL_THROTTLE_USER", "6000/min"),
        # Failed sign-ins (POST /api/v1/auth/token/) per client address and per username.
        "login_ip": env_str("OPSPORTAL_THROTTLE_LOGIN_IP", "50/hour"),
        "login_username": env_str("OPSPORTAL_THROTTLE_LOGIN_USERNAME", "10/hour"),
    },
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1)),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Ops Portal API",
    "DESCRIPTION": (
        "Release management: record releases, get them approved, deploy them through "
        "development → staging → production, roll them back, and measure how it all goes."
    ),
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "opsportal.api.openapi_hooks.finish_schema",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No call to validator.swagger.io from the browser: the docs work air-gapped (DESIGN §2).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "DeliveryStatusEnum": "events.choices.DeliveryStatus",
        "ReleaseStatusEnum": "releases.choices.ReleaseStatus",
        "DeploymentStatusEnum": "releases.choices.DeploymentStatus",
        "DeploymentKindEnum": "releases.choices.DeploymentKind",
        "EnvironmentHealthEnum": "environments.choices.Health",
        "EnvironmentTierEnum": "environments.choices.Tier",
        # One component per set of values (issue #14), also for those only embedded documents use.
        "ReleaseActionEnum": "releases.choices.ReleaseAction",
        "FeatureStatusEnum": "releases.choices.FeatureStatus.values",
        "TaskStatusEnum": "releases.choices.TaskStatus.values",
        "ApprovalDecisionEnum": "releases.choices.ApprovalDecision.values",
        "DeployBlockerCodeEnum": "releases.services.BLOCKER_CODES",
        "DeployStatusEnum": "releases.api.serializers.DEPLOY_STATUSES",
        "DeploymentResultEnum": "releases.api.serializers.REPORTED_STATUSES",
        "RoleEnum": "opsportal.roles.ROLE_NAMES",
        "DatabaseUnavailableReasonEnum": "opsportal.api.schema.UNAVAILABLE_REASONS",
        "IncidentStatusEnum": "incidents.choices.IncidentStatus",
        "IncidentSeverityEnum": "incidents.choices.Severity",
        "DoraMetricEnum": "releases.dora.METRICS",
        "DoraIntervalEnum": "releases.dora.INTERVALS",
        "DoraFailureSourceEnum": "releases.dora.FAILURE_SOURCES",
        "DoraLevelEnum": "releases.dora.LEVELS",
        "DoraUnitEnum": "releases.dora.UNIT_NAMES",
        "EvidenceAlgorithmEnum": "evidence.api.serializers.ALGORITHMS",
    },
}

# --- Cache: throttling counters must be shared by every worker (idempotency records are documents).
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Without Redis the workers share a file cache: beside the SQLite database file (on the same disk, as
    # shared as the database), else `.cache`. Not the database itself: every counter update would be a write
    # transaction queued behind the units of work (the write mix of BENCHMARKS.md).
    _sqlite_file = not USING_MONGODB and SQLITE_PATH not in ("", ":memory:") and not SQLITE_PATH.startswith("file:")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env_str(
                "OPSPORTAL_CACHE_DIR", f"{SQLITE_PATH}.cache" if _sqlite_file else str(BASE_DIR / ".cache")
            ),
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }
# Read throttling (issue #18) never writes to the database: Redis where set, else counters per process
# (the effective read limit is then the rate times the number of workers). Writes and sign-ins use `default`.
CACHES["throttle"] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "throttle"}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 100_000}}
)

# --- Logging: JSON lines (python-json-logger) in production, plain text when DEBUG is on.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Our access log replaces Django's per-request warnings for 4xx.
        "django.request": {"level": "ERROR"},
    },
}

# --- Production hardening. Defaults suit a plain-HTTP local run; the production values
# (README "Production settings") make `manage.py check --deploy` print no warnings.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^health/?$", r"^health/live/?$"]
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
