"""Django settings for motus_site.

Everything that differs between machines comes from the environment:

- ``MOTUS_DB_PATH``: the shared SQLite file (default ``~/.motus/coordination.db``).
- ``DJANGO_DEBUG``: ``1`` for development; off by default.
- ``DJANGO_SECRET_KEY``: required when ``DJANGO_DEBUG`` is off and the server is not local.
- ``DJANGO_ALLOWED_HOSTS``: comma-separated; default ``127.0.0.1,localhost``.
- ``MOTUS_ANONYMOUS_READ``: ``1`` lets anonymous users read the progress pages
  (single-user local install); off by default.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver", "::1", "[::1]"}

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or set(ALLOWED_HOSTS) <= _LOCAL_HOSTS:
        # A local-only install (loopback hosts) gets a fixed development key; anything
        # reachable from elsewhere must configure its own.
        SECRET_KEY = "motus-local-development-key-not-for-servers-reachable-from-elsewhere"
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_ALLOWED_HOSTS names a non-local host "
            "and DJANGO_DEBUG is off."
        )

INSTALLED_APPS = [
    # Local apps first: `system` overrides the `migrate` command (adopting existing files).
    "system",
    "programs",
    "roadmap",
    "kernel",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_extensions",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "motus_site.urls"

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

WSGI_APPLICATION = "motus_site.wsgi.application"
ASGI_APPLICATION = "motus_site.asgi.application"


def database_path() -> Path:
    """The shared coordination.db; its folder is created private (0700), the file 0600."""
    path = Path(os.environ.get("MOTUS_DB_PATH") or Path.home() / ".motus" / "coordination.db")
    path = path.expanduser()
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    return path


# The PRAGMAs the `motus` tool sets on every connection (contract RULES.md 1.2).
# recursive_triggers must stay OFF (the SQLite default): the *_updated_at helper triggers
# would recurse otherwise.
SQLITE_INIT_COMMAND = ";".join(
    [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
        "PRAGMA cache_size=-64000",
        "PRAGMA temp_store=MEMORY",
        "PRAGMA mmap_size=268435456",
    ]
)

DATABASES = {
    "default": {
        "ENGINE": "system.db_backend",
        "NAME": str(database_path()),
        "OPTIONS": {
            "init_command": SQLITE_INIT_COMMAND,
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
        # Keep connections between requests: opening one runs the PRAGMAs above (WAL, mmap,
        # cache), which costs more than a whole API call.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {
            # Tests run on a real file: triggers, locking and WAL behave as in production.
            "NAME": os.environ.get("MOTUS_TEST_DB_PATH")
            or str(Path(os.environ.get("TMPDIR", "/tmp")) / f"motus_test_{os.getpid()}.db"),
        },
    }
}

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LOGIN_URL = "login"
MOTUS_ANONYMOUS_READ = env_flag("MOTUS_ANONYMOUS_READ")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


# Authority limits (system.policy, README "Roles"):
#: The longest TTL of any lease, a claim's or a bare one (seconds).
MOTUS_MAX_LEASE_TTL_SECONDS = env_int("MOTUS_MAX_LEASE_TTL_SECONDS", 24 * 3600)
#: Open (not completed/deferred) ad-hoc items one non-lead may have created.
MOTUS_MAX_OPEN_ADHOC_ITEMS = env_int("MOTUS_MAX_OPEN_ADHOC_ITEMS", 10)
#: Of a phase's 50 active places (enforce_phase_limit), the last this many are kept for leads.
MOTUS_PHASE_RESERVED_FOR_LEADS = env_int("MOTUS_PHASE_RESERVED_FOR_LEADS", 10)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes a missing login a 401, not a 403.
        "system.api.authentication.TokenAuthentication",
        "system.api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["system.api.permissions.CanRead"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "system.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "system.api.schema.MotusAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Motus coordination API",
    "DESCRIPTION": (
        "Agent API over coordination.db: ready work, claims, evidence, decisions, blockers, "
        "handoffs and leases.\n\n"
        "**Auth**: `Authorization: Bearer <token>` (`python manage.py create_agent NAME` "
        "prints one), or a staff admin session. Your identity (`agent:NAME` / `user:NAME`) is "
        "what the API records as worker, author and actor.\n\n"
        '**Errors** all look like `{"error": {"status", "code", "message", '
        '"fields"?, "details"?}}`. A database rule\'s refusal is 409 with code '
        "`kernel_rule` and the rule's exact message; `details` says what to do about it.\n\n"
        "**Retries**: send `Idempotency-Key` on any POST; the same key and body replays the "
        "first successful response, another body with the same key gets 422."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are public (they hold no data); every endpoint needs a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Index names are the contract's (schema.json), some longer than the 30 characters Django
# keeps to for Oracle; SQLite has no such limit.
SILENCED_SYSTEM_CHECKS = ["models.E034"]
