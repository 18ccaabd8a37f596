"""CRT Case & Referral settings: one file, configured by environment variables only.

With no environment at all the app runs on the embedded default (SQLite and a filesystem Celery
broker under var/). Every variable is listed in .env.example and the README.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"The environment variable {name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"The environment variable {name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# Development mode is DEBUG=true: it allows a built-in SECRET_KEY. Anything else is production-like.
DEBUG = env_bool("DEBUG", False)
if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-do-not-use-in-production")
else:
    try:
        SECRET_KEY = env_str("SECRET_KEY")
    except ImproperlyConfigured:
        raise ImproperlyConfigured(
            "The environment variable SECRET_KEY is required unless DEBUG=true (development mode)."
        ) from None

VAR_DIR = Path(env_str("CRT_VAR_DIR", str(BASE_DIR / "var")))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "crt.admin_site.CRTAdminConfig",  # django.contrib.admin, for staff admins only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc assets, served by the app
    "accounts",
    "providers",
    "cases",
    "referrals",
    "inbox",
    "metrics",
    "audit",
    "demo",  # manage.py seed_demo and seed_bulk
]

MIDDLEWARE = [
    "crt.scoping.ScopedRequests",  # a request never inherits a system read (crt.scoping)
    "crt.middleware.RequestIdMiddleware",  # first: every response, errors too, carries X-Request-ID
    "django.middleware.security.SecurityMiddleware",
    "crt.middleware.QueryStringGuardMiddleware",  # a NUL in a query string is a 400 (crt.inputs)
    "crt.middleware.SecurityHeadersMiddleware",  # CSP and Cache-Control: no-store
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.sessions.SessionTimeoutMiddleware",  # idle and absolute timeouts, dead sessions
    "accounts.sessions.PartnerAreaMiddleware",  # partner users reach partner pages only
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "crt.urls"
WSGI_APPLICATION = "crt.wsgi.application"
ASGI_APPLICATION = "crt.asgi.application"

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
                "crt.layout.layout",
                "inbox.context_processors.inbox",  # the count in the navigation (lazy: read when shown)
            ],
        },
    },
]

# SQLite under var/ is the embedded default; DATABASE_URL=postgres://... selects PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'crt.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0))}
except ValueError as error:
    raise ImproperlyConfigured(f"The environment variable DATABASE_URL is not a database URL: {error}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Several processes (web, worker, beat) share the file: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

# Two roles on PostgreSQL (audit.roles, decision 010): DATABASE_URL is the app's role (web, workers,
# beat), which owns nothing; MIGRATE_DATABASE_URL, if set, is the owner role `migrate` connects as
# (same host, port and database; only the credentials differ). Unset: migrate uses DATABASE_URL.
MIGRATE_DATABASE = None
if _migrate_url := env_str("MIGRATE_DATABASE_URL", ""):
    try:
        MIGRATE_DATABASE = dj_database_url.parse(_migrate_url)
    except ValueError as error:
        raise ImproperlyConfigured(f"MIGRATE_DATABASE_URL is not a database URL: {error}") from None
    _where = ("ENGINE", "NAME", "HOST", "PORT")
    if any(MIGRATE_DATABASE[key] != DATABASES["default"][key] for key in _where):
        raise ImproperlyConfigured(
            "MIGRATE_DATABASE_URL must name the same database as DATABASE_URL (only the role differs)."
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# One login for everything, the admin included: password, then the second factor (accounts.views).
AUTHENTICATION_BACKENDS = ["accounts.auth.LockoutModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"  # sends each role to its start page
# Partner users land here and are kept under these paths (the partner page sets its own URL).
PARTNER_HOME_URL = "/partner/"
# The API's schema and docs are public; a partner user reads them signed in (linked from Account).
PARTNER_PATH_PREFIXES = [
    *("/partner/", "/accounts/", "/static/", "/healthz", "/favicon.ico"),
    *("/api/docs/", "/api/schema/"),
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/Chicago")
USE_I18N = True
USE_TZ = True

# The cache holds API throttle counters: shared by every process only when it is Redis.
CACHE_URL = env_str("CACHE_URL", "locmem://")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL == "locmem://":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured(
        f"The environment variable CACHE_URL must be locmem:// or redis://..., not {CACHE_URL!r}."
    )

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "assets"]  # our own CSS/JS; no CDN, everything served by the app
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "static")))

# Celery. The embedded default is kombu's filesystem transport in var/broker: nothing to install,
# and a real worker and beat still run. CELERY_BROKER_URL=redis://... selects Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env_str("CELERY_BROKER_DIR", str(VAR_DIR / "broker")))
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    (VAR_DIR / "celery-results").mkdir(parents=True, exist_ok=True)
    _default_results = f"file://{VAR_DIR / 'celery-results'}"
else:
    # Long waits live in database columns, never in broker countdowns; this only bounds redelivery
    # of a task whose worker died.
    # A publish while Redis is down fails in milliseconds instead of seconds: the outbox row is
    # already committed and the delivery sweep enqueues it again once the broker is back.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        "max_retries": 1,
        "interval_start": 0,
    }
    _default_results = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _default_results)
CELERY_RESULT_EXPIRES = timedelta(hours=1)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "crt.beat:Scheduler"  # one log line, not a traceback a tick, while the broker is down
# Beat only scans indexed columns; every long wait lives in the database (DESIGN.md §4).
CELERY_BEAT_SCHEDULE = {
    "deliver-due": {"task": "referrals.sweep_deliveries", "schedule": env_int("SWEEP_DELIVERIES_SECONDS", 30)},
    "chase-referrals": {"task": "referrals.chase_referrals", "schedule": env_int("SWEEP_CHASE_SECONDS", 300)},
    "sweep-follow-ups": {"task": "cases.sweep_follow_ups", "schedule": env_int("SWEEP_FOLLOW_UPS_SECONDS", 300)},
    # Idempotency keys older than crt.idempotency.IDEMPOTENCY_TTL (24 hours): their answers may hold personal data.
    "purge-idempotency-keys": {
        "task": "crt.purge_idempotency_keys",
        "schedule": env_int("SWEEP_IDEMPOTENCY_SECONDS", 3600),
    },
}

CELERY_BEAT_SCHEDULE.update(
    {
        # The inbox (inbox.tasks): emails in the outbox, the daily digest; housekeeping (inbox.sweeps).
        "inbox-send-notifications": {
            "task": "inbox.send_notifications",
            "schedule": env_int("SWEEP_NOTIFICATIONS_SECONDS", 60),
        },
        "inbox-queue-digests": {"task": "inbox.queue_digests", "schedule": env_int("SWEEP_DIGESTS_SECONDS", 600)},
        "inbox-wake-snoozed": {"task": "inbox.wake_snoozed", "schedule": env_int("SWEEP_SNOOZED_SECONDS", 300)},
        "inbox-check-consents": {"task": "inbox.check_consents", "schedule": env_int("SWEEP_CONSENTS_SECONDS", 3600)},
        "inbox-high-risk-without-contact": {
            "task": "inbox.high_risk_without_contact",
            "schedule": env_int("SWEEP_HIGH_RISK_SECONDS", 3600),
        },
        "inbox-nudge-stale-capacity": {
            "task": "inbox.nudge_stale_capacity",
            "schedule": env_int("SWEEP_STALE_CAPACITY_SECONDS", 3600),
        },
        "inbox-purge": {"task": "inbox.purge", "schedule": env_int("SWEEP_INBOX_PURGE_SECONDS", 86400)},
    }
)
# The daily digest goes out at this local time (TIME_ZONE), "HH:MM".
INBOX_DIGEST_AT = env_str("INBOX_DIGEST_AT", "07:00")
# A high-risk open case with no reached contact for this many days raises an item.
INBOX_HIGH_RISK_NO_CONTACT_DAYS = env_int("INBOX_HIGH_RISK_NO_CONTACT_DAYS", 3)
# Retention (docs/security.md): resolved items with their history, and sent emails' rows.
INBOX_RESOLVED_KEEP_DAYS = env_int("INBOX_RESOLVED_KEEP_DAYS", 400)
INBOX_NOTIFICATIONS_KEEP_DAYS = env_int("INBOX_NOTIFICATIONS_KEEP_DAYS", 30)

# Security. Production-like (DEBUG off) defaults are the safe ones; a TLS proxy sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# Messages live in the server-side session, not in a cookie: the admin shows a new API key or token
# once as a message, and a secret must not travel (or sit in a proxy's log) in a Set-Cookie header.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script of ours reads it
# Absolute session lifetime (from sign-in, activity or not) and idle timeout: accounts.sessions.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60)
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 15 * 60)
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere, the admin included (crt.middleware, docs/security.md).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# How many reverse proxies of ours sit in front of the app. 0: the client address is REMOTE_ADDR and
# X-Forwarded-For is ignored; N: the N-th address from the right of X-Forwarded-For (audit log only:
# the login lockout is keyed by account, never by address).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Lockout (accounts.lockout): this many failed checks of one account within the window lock it
# until the oldest of them leaves the window. Password and second-factor failures count together.
LOCKOUT_MAX_FAILURES = 5
LOCKOUT_WINDOW = timedelta(hours=1)
# Second factor (accounts.twofactor) and break-glass (accounts.breakglass).
TOTP_ISSUER = "CRT Case & Referral"
RECOVERY_CODE_COUNT = 10
BREAK_GLASS_MAX_MINUTES = 240

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "providers.auth.PartnerCredentialAuthentication",  # Authorization: Bearer crt_<prefix>_<secret>
        "accounts.tokens.StaffTokenAuthentication",  # Authorization: Bearer crts_<prefix>_<secret>
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API's shared pieces (crt.api): one error shape, JSON only with a size limit, throttling.
    "EXCEPTION_HANDLER": "crt.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["crt.api.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["crt.api.JSONRenderer"],  # DRF's JSON, written by orjson
    "DEFAULT_THROTTLE_CLASSES": ["crt.api.ApiRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "crt.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["crt.api_filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "crt.schema.AutoSchema",
    # OPTIONS is a 405 with Allow: /api/schema/ describes the API (DRF's metadata answered OPTIONS
    # on the partner webhook with a 500, found by the schemathesis run).
    "DEFAULT_METADATA_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per credential (or user) per period, then 429 with Retry-After; and the largest body accepted.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/min")
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "CRT Case & Referral API",
    "DESCRIPTION": "Referrals, partner directory and capacity, and staff case work. Errors are RFC 9457 problem "
    "documents; writes take Idempotency-Key; updates need If-Match. See docs/api.md.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "crt.api.strict_request_bodies"],
    "SWAGGER_UI_DIST": "SIDECAR",  # served by the app (drf-spectacular-sidecar): no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No deep links: with them every operation's summary button holds a link (a control inside a control).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "referrals.models.Status",
        "ServiceStatusEnum": "providers.models.Service.Status",
        "ContactMethodEnum": "cases.models.Contact.Method",
        "ConsentMethodEnum": "cases.models.Consent.Method",
        "NeedDomainEnum": "providers.models.NeedDomain",
        "CaseClosedReasonEnum": "cases.models.Case.ClosedReason",
    },
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "crt-noreply@localhost")

# Delivery to partners (referrals.delivery). Webhook URLs must be https and resolve to public
# addresses; hosts listed here are exempt (the tests' and the demo's local receivers).
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", "")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Where partners and staff reach this app; used for links in emails (never carrying personal data).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

# Program metrics: breakdown cells smaller than this are suppressed (privacy of small groups).
METRICS_MIN_CELL_SIZE = env_int("METRICS_MIN_CELL_SIZE", 11)

# Logs carry ids, never personal data: see docs/security.md.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "crt.middleware.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
