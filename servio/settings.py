"""Servio settings: one module, configured by environment variables (see README)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from servio.web.static_dirs import static_dirs

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SERVIO_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def _secret_key() -> str:
    """Use SERVIO_SECRET_KEY, else a key generated on first start and kept under var/."""
    if key := os.environ.get("SERVIO_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("SERVIO_DEBUG")
ALLOWED_HOSTS = env_list("SERVIO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("SERVIO_CSRF_TRUSTED_ORIGINS")
SERVIO_BASE_URL = os.environ.get("SERVIO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs page's assets locally (no CDN)
    "servio.core",
    "servio.accounts",
    "servio.audit",
    "servio.security",
    "servio.api",
    "servio.tickets",
    "servio.incidents",
    "servio.notifications",
    "servio.sla",
    "servio.mail",
    "servio.surveys",
    "servio.reporting",
    "servio.workspace",
    "servio.portal",
    "servio.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "servio.web.csp.ContentSecurityPolicyMiddleware",
    "servio.core.middleware.RequestContextMiddleware",
    "servio.security.middleware.RefusalMiddleware",
    "servio.api.middleware.ApiProblemMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "servio.accounts.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "servio.api.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "servio.urls"
WSGI_APPLICATION = "servio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- database ---------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'servio.sqlite3'}"
# Connections are kept for a minute and checked before a request reuses one, so a connection
# that a database restart killed is replaced instead of failing the request (decision 25).
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
# How long a SQLite writer waits for another's lock before the request answers 503.
SERVIO_SQLITE_BUSY_TIMEOUT_SECONDS = env_int("SERVIO_SQLITE_BUSY_TIMEOUT_SECONDS", 20)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    busy_ms = SERVIO_SQLITE_BUSY_TIMEOUT_SECONDS * 1000
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a write transaction takes the write lock at BEGIN, so two writers never
        # both read and then collide on upgrade (numbering, the audit hash chain).
        "transaction_mode": "IMMEDIATE",
        "timeout": SERVIO_SQLITE_BUSY_TIMEOUT_SECONDS,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
            f"PRAGMA busy_timeout={busy_ms};PRAGMA foreign_keys=ON;"
        ),
    }
    # In memory unless named; ":memory:" rather than empty, which pytest-django reads as in
    # memory only for Django's own backend path.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SERVIO_TEST_SQLITE_NAME") or ":memory:"}
    if env_bool("SERVIO_SQLITE_WRITER_QUEUE", True):
        # Writers of one process take turns in arrival order instead of racing SQLite's busy
        # handler (decision 39); 0 serves Django's backend as it is, for comparison.
        DATABASES["default"]["ENGINE"] = "servio.core.sqlite"
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql") and env_bool(
    "SERVIO_DB_PREPARED_STATEMENTS", True
):
    # Server-side binding lets PostgreSQL cache the plans of the same few queries every request
    # runs (planning, not execution, dominates a ticket read). Turn off behind PgBouncer in
    # transaction mode without max_prepared_statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "servio.security.signin.ThrottleBackend",  # refuses paused attempts first (decision 22)
    # Django's ModelBackend, loading the organisation with the person (its time zone).
    "servio.accounts.backends.UserBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env_bool("SERVIO_FAST_PASSWORD_HASHER"):  # tests and bulk generation only
    PASSWORD_HASHERS.insert(0, "django.contrib.auth.hashers.MD5PasswordHasher")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Sign-in and password-reset throttles (decision 22; counted in the cache below).
SERVIO_LOGIN_FAILURE_LIMIT = env_int("SERVIO_LOGIN_FAILURE_LIMIT", 5)  # one account, one address
SERVIO_LOGIN_COOLOFF_SECONDS = env_int("SERVIO_LOGIN_COOLOFF_MINUTES", 15) * 60
SERVIO_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("SERVIO_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
SERVIO_LOGIN_MAX_DELAY_SECONDS = env_int("SERVIO_LOGIN_MAX_DELAY_SECONDS", 300)
SERVIO_PASSWORD_RESET_ACCOUNT_LIMIT = env_int("SERVIO_PASSWORD_RESET_ACCOUNT_LIMIT", 3)
SERVIO_PASSWORD_RESET_ADDRESS_LIMIT = env_int("SERVIO_PASSWORD_RESET_ADDRESS_LIMIT", 10)
SERVIO_PASSWORD_RESET_WINDOW_MINUTES = env_int("SERVIO_PASSWORD_RESET_WINDOW_MINUTES", 60)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool(
    "SERVIO_SECURE_COOKIES", not DEBUG and SERVIO_BASE_URL.startswith("https")
)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_COOKIES:
    SECURE_HSTS_SECONDS = env_int("SERVIO_HSTS_SECONDS", 0)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- i18n / time ------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The installation's zone: people and organisations without one of their own read times in it
# (decision 37). Dates and times are formatted with the locale's formats (servio/formats).
TIME_ZONE = os.environ.get("SERVIO_TIME_ZONE", "UTC")
USE_I18N = True
FORMAT_MODULE_PATH = ["servio.formats"]
USE_TZ = True

# --- static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = static_dirs(NODE_MODULES)
MEDIA_ROOT = Path(os.environ.get("SERVIO_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Production serves what collectstatic gathered (compressed, cached); debug reads the sources.
WHITENOISE_USE_FINDERS = env_bool("SERVIO_STATIC_FROM_SOURCES", DEBUG)

# --- cache, broker, background work -----------------------------------------------------------
REDIS_URL = os.environ.get("SERVIO_REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "servio",
        }
    }

SERVIO_BROKER_URL = os.environ.get("SERVIO_BROKER_URL", "")
CELERY_BROKER_URL = SERVIO_BROKER_URL or "memory://"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("SERVIO_CELERY_QUEUE", "servio")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Outbox delivery: attempts before dead-letter, first retry delay (doubles each time), lease.
SERVIO_OUTBOX_MAX_ATTEMPTS = env_int("SERVIO_OUTBOX_MAX_ATTEMPTS", 8)
SERVIO_OUTBOX_RETRY_BASE_SECONDS = env_int("SERVIO_OUTBOX_RETRY_BASE_SECONDS", 10)
SERVIO_OUTBOX_LEASE_SECONDS = env_int("SERVIO_OUTBOX_LEASE_SECONDS", 60)
SERVIO_RUNNER_POLL_SECONDS = float(os.environ.get("SERVIO_RUNNER_POLL_SECONDS", "1"))
SERVIO_RUNNER_ENABLED = env_bool("SERVIO_RUNNER_ENABLED", not SERVIO_BROKER_URL)

# --- API --------------------------------------------------------------------------------------
SERVIO_API_RATE_LIMIT = env_int("SERVIO_API_RATE_LIMIT", 1200)  # requests per token per minute
SERVIO_API_PAGE_SIZE = env_int("SERVIO_API_PAGE_SIZE", 50)
SERVIO_API_MAX_PAGE_SIZE = 200
SERVIO_IDEMPOTENCY_TTL_HOURS = env_int("SERVIO_IDEMPOTENCY_TTL_HOURS", 24)
# An unfinished key is held this long; then its request is taken for dead and a retry runs it
# (decision 25). Keep it above the longest request: a slower one could be run twice.
SERVIO_IDEMPOTENCY_LEASE_SECONDS = env_int("SERVIO_IDEMPOTENCY_LEASE_SECONDS", 60)
# Retry-After of a 503 answer: the database restarting or locked, file storage refusing writes.
SERVIO_UNAVAILABLE_RETRY_AFTER_SECONDS = env_int("SERVIO_UNAVAILABLE_RETRY_AFTER_SECONDS", 10)

# --- audit trail (decision 31) ----------------------------------------------------------------
# The sealer chains committed events this often (a job on its own lane of the runner, or beat).
SERVIO_AUDIT_SEAL_SECONDS = env_int("SERVIO_AUDIT_SEAL_SECONDS", 1)
# Unsealed events older than this make /api/v1/health "degraded" (the sealer is not running).
SERVIO_AUDIT_SEAL_LAG_ALERT_SECONDS = env_int("SERVIO_AUDIT_SEAL_LAG_ALERT_SECONDS", 120)
# Where the signed checkpoints of the chain's tip go, outside the database: comma-separated
# file paths (appended to; `servio audit verify` reads them) and/or `syslog` (the local syslog
# socket) or `syslog://host:port` (UDP). Empty: a file under SERVIO_VAR_DIR.
SERVIO_AUDIT_CHECKPOINTS = env_list(
    "SERVIO_AUDIT_CHECKPOINTS", str(VAR_DIR / "audit-checkpoints.jsonl")
)
SERVIO_AUDIT_CHECKPOINT_MINUTES = env_int("SERVIO_AUDIT_CHECKPOINT_MINUTES", 5)
# The key that signs checkpoints (HMAC-SHA256). Keep it where the database's administrators
# cannot read it; without it, a key derived from SERVIO_SECRET_KEY is used.
SERVIO_AUDIT_CHECKPOINT_KEY = os.environ.get("SERVIO_AUDIT_CHECKPOINT_KEY", "")

# --- security log (decision 19) ---------------------------------------------------------------
SERVIO_SECURITY_LOG_DAYS = env_int("SERVIO_SECURITY_LOG_DAYS", 365)

# --- email ------------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("SERVIO_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("SERVIO_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("SERVIO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("SERVIO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("SERVIO_EMAIL_STARTTLS")
EMAIL_USE_SSL = env_bool("SERVIO_EMAIL_SSL")
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get(
    "SERVIO_EMAIL_FROM", "Servio Service Desk <servicedesk@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = os.environ.get(
    "SERVIO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("SERVIO_EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SERVIO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- tickets ----------------------------------------------------------------------------------
SERVIO_INCIDENT_REOPEN_DAYS = env_int("SERVIO_INCIDENT_REOPEN_DAYS", 7)
SERVIO_INCIDENT_AUTOCLOSE_DAYS = env_int("SERVIO_INCIDENT_AUTOCLOSE_DAYS", 5)
SERVIO_ATTACHMENT_MAX_BYTES = env_int("SERVIO_ATTACHMENT_MAX_MB", 25) * 1024 * 1024
SERVIO_TICKET_ATTACHMENTS_MAX_BYTES = env_int("SERVIO_TICKET_ATTACHMENTS_MAX_MB", 100) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- email channel (docs/email.md) ------------------------------------------------------------
SERVIO_MAIL_RATE_LIMIT = env_int("SERVIO_MAIL_RATE_LIMIT", 20)
SERVIO_MAIL_RATE_WINDOW_MINUTES = env_int("SERVIO_MAIL_RATE_WINDOW_MINUTES", 10)
SERVIO_MAIL_POLL_SECONDS = env_int("SERVIO_MAIL_POLL_SECONDS", 60)
# A failing mailbox is polled again after a backoff with jitter, at most this long.
SERVIO_MAIL_POLL_MAX_BACKOFF_SECONDS = env_int("SERVIO_MAIL_POLL_MAX_BACKOFF_SECONDS", 3600)
SERVIO_MAIL_IMAP_TIMEOUT = env_int("SERVIO_MAIL_IMAP_TIMEOUT", 30)  # seconds per server reply
SERVIO_MAIL_MAX_MESSAGE_MB = env_int("SERVIO_MAIL_MAX_MESSAGE_MB", 50)
SERVIO_SURVEY_VALID_DAYS = env_int("SERVIO_SURVEY_VALID_DAYS", 14)

# --- reports (docs/reporting.md) --------------------------------------------------------------
# The time zones whose days the reports pre-aggregate, the first being the reports' default;
# a report in any other zone is computed from the tickets (slower over long periods).
SERVIO_REPORT_TIME_ZONES = env_list("SERVIO_REPORT_TIME_ZONES", TIME_ZONE)
SERVIO_SURVEYS_ENABLED = env_bool("SERVIO_SURVEYS_ENABLED", True)

# --- self-service portal (docs/ui.md) ---------------------------------------------------------
# How requesters see who works on their ticket: "first" (the agent's first name and the team)
# or "team" (the team only; staff replies are signed with the team's name).
SERVIO_PORTAL_AGENT_NAME = os.environ.get("SERVIO_PORTAL_AGENT_NAME", "first").strip().lower()
if SERVIO_PORTAL_AGENT_NAME not in ("first", "team"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SERVIO_PORTAL_AGENT_NAME must be 'first' or 'team'.")
