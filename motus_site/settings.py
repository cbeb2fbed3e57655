"""Django settings for motus_site.

Everything that differs between machines comes from the environment:

- ``DATABASE_URL``: ``postgres://user:password@host:port/name`` selects PostgreSQL
  (README "PostgreSQL"); unset, the database is the SQLite file at ``MOTUS_DB_PATH``.
- ``MOTUS_DB_PATH``: the shared SQLite file (default ``~/.motus/coordination.db``).
- ``DJANGO_DEBUG``: ``1`` for development; off by default.
- ``DJANGO_SECRET_KEY``: required when ``DJANGO_DEBUG`` is off and the server is not local.
- ``DJANGO_ALLOWED_HOSTS``: comma-separated; default ``127.0.0.1,localhost``.
- ``MOTUS_ANONYMOUS_READ``: ``1`` lets anonymous users read the progress pages
  (single-user local install); off by default.
"""

from __future__ import annotations

import os
from datetime import timedelta
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
    # django.contrib.admin with the Motus site as admin.site (system/admin_site.py).
    "system.apps.MotusAdminConfig",
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
    "axes",
]

MIDDLEWARE = [
    # Outermost: one log line per API request (actor, method, path, status, duration).
    "system.api.middleware.RequestLogMiddleware",
    # Then: everything under /api/ (oversize bodies, Django's own error pages, database
    # failures outside DRF) answers in the API's JSON error shape.
    "system.api.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last (django-axes): a locked-out login gets its 429 answer.
    "axes.middleware.AxesMiddleware",
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


# How long a connection waits for another process's write lock before "database is locked"
# (the API answers 503 database_busy). Management commands and `make run` keep the contract's
# 30 s; web servers must answer before their worker timeout, so motus_site/wsgi.py (and
# gunicorn.conf.py) set MOTUS_BUSY_TIMEOUT_MS=5000 before the settings load.
_busy_timeout = os.environ.get("MOTUS_BUSY_TIMEOUT_MS", "").strip() or "30000"
if not _busy_timeout.isdigit():
    raise ImproperlyConfigured(
        f"MOTUS_BUSY_TIMEOUT_MS must be a whole number, not {_busy_timeout!r}."
    )
MOTUS_BUSY_TIMEOUT_MS = int(_busy_timeout)

# The PRAGMAs the `motus` tool sets on every connection (contract RULES.md 1.2).
# recursive_triggers must stay OFF (the SQLite default): the *_updated_at helper triggers
# would recurse otherwise.
SQLITE_INIT_COMMAND = ";".join(
    [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={MOTUS_BUSY_TIMEOUT_MS}",
        "PRAGMA cache_size=-64000",
        "PRAGMA temp_store=MEMORY",
        "PRAGMA mmap_size=268435456",
    ]
)


def sqlite_database() -> dict:
    return {
        "ENGINE": "system.db_backend",
        "NAME": str(database_path()),
        "OPTIONS": {
            "init_command": SQLITE_INIT_COMMAND,
            "transaction_mode": "IMMEDIATE",
            "timeout": MOTUS_BUSY_TIMEOUT_MS / 1000,
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


def postgresql_database(url: str) -> dict:
    """PostgreSQL from ``DATABASE_URL`` (dj-database-url parses it; psycopg 3 drives it)."""
    import dj_database_url

    config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// URL (SQLite: leave it unset and set "
            f"MOTUS_DB_PATH), not {url.split(':', 1)[0]}://…"
        )
    # Ours: the contract's triggers' messages, flush that keeps the seed rows (system.db_backend).
    config["ENGINE"] = "system.db_backend.postgresql"
    options = config.setdefault("OPTIONS", {})
    # A lock wait (a row another transaction holds) ends like SQLite's busy timeout: the API
    # answers 503 database_busy before the web server's worker timeout.
    options.setdefault("options", f"-c lock_timeout={MOTUS_BUSY_TIMEOUT_MS} -c timezone=UTC")
    # Test databases per process: several test runs may share one cluster.
    config["TEST"] = {
        "NAME": os.environ.get("MOTUS_TEST_DB_NAME") or f"test_{config['NAME']}_{os.getpid()}"
    }
    return config


_DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
DATABASES = {"default": postgresql_database(_DATABASE_URL) if _DATABASE_URL else sqlite_database()}

# Throttle counts and failed-login counts (system.api.throttling, django-axes). Each process
# counts for itself (`make run`, tests) unless MOTUS_CACHE_DIR names a folder, which
# gunicorn.conf.py does (beside the database), so that all workers share the counts.
_CACHE_DIR = os.environ.get("MOTUS_CACHE_DIR", "").strip()
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": _CACHE_DIR,
            "OPTIONS": {"MAX_ENTRIES": 1000},
        }
        if _CACHE_DIR
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "motus"}
    )
}

AUTHENTICATION_BACKENDS = [
    # django-axes first: a username locked out from an address is refused before its
    # password is checked (admin and /login/).
    "system.api.throttling.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

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


def env_rate(name: str, default: str) -> str | None:
    """A throttle rate from the environment: ``N/s``, ``N/min``, ``N/hour``, ``N/day``
    (DRF's format), or ``off``."""
    value = os.environ.get(name, "").strip() or default
    if value.lower() == "off":
        return None
    number, _, period = value.partition("/")
    if not number.isdigit() or not period or period[0] not in "smhd":
        raise ImproperlyConfigured(f"{name} must look like 600/min or be off, not {value!r}.")
    return value


# Limits and throttling (README "Limits and throttling"):
#: The largest request body (bytes); a larger one is refused 413 before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MOTUS_MAX_BODY_BYTES", 2_621_440)
#: Writes (POST/PATCH/PUT/DELETE) per API token (or per staff session user).
MOTUS_THROTTLE_WRITES = env_rate("MOTUS_THROTTLE_WRITES", "600/min")
#: Failed token attempts (unknown, revoked, empty) per client address; then 429.
MOTUS_THROTTLE_AUTH_FAILURES = env_rate("MOTUS_THROTTLE_AUTH_FAILURES", "30/min")
#: Reverse proxies in front of the server: the client address is then taken from
#: X-Forwarded-For, this many hops back (0: REMOTE_ADDR, which a client cannot forge).
MOTUS_NUM_PROXIES = env_int("MOTUS_NUM_PROXIES", 0)

# django-axes: failed logins to the admin and /login/ per username and address; after
# AXES_FAILURE_LIMIT of them that username is refused from that address (429) for
# AXES_COOLOFF_TIME, even with the right password. Counts are kept in the cache (above), not
# in coordination.db, whose tables are the contract's: hence no axes migrations, and the
# cache warning W001 (LocMem/file caches "not shared") silenced, as gunicorn.conf.py shares
# one file cache between the workers.
AXES_ENABLED = True
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env_int("MOTUS_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("MOTUS_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "system.api.throttling.client_address"
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
MIGRATION_MODULES = {"axes": None}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes a missing login a 401, not a 403.
        "system.api.authentication.TokenAuthentication",
        "system.api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["system.api.permissions.CanRead"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a nesting limit (too-deep JSON is a 400, not a RecursionError).
    "DEFAULT_PARSER_CLASSES": ["system.api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["system.api.throttling.WriteRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "writes": MOTUS_THROTTLE_WRITES,
        "auth_failures": MOTUS_THROTTLE_AUTH_FAILURES,
    },
    "NUM_PROXIES": MOTUS_NUM_PROXIES,
    "EXCEPTION_HANDLER": "system.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "system.api.schema.MotusAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        # First: an unknown query parameter is a 400 naming the valid ones.
        "system.api.filters.StrictQueryParameters",
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
        "## The agent loop\n\n"
        "1. `GET /api/v1/work/ready/`: items that can start now; each row carries its "
        "`claim` call.\n"
        '2. `POST /api/v1/work/{id}/claim/` `{"ttl_seconds": 900}`: opens your attempt '
        "(`attempt.id`) with a frozen contract and a lease on the item.\n"
        "3. `GET /api/v1/attempts/{id}/context/`: the item, its contract, dependencies, open "
        "blockers, what you recorded so far, review feedback.\n"
        '4. `POST /api/v1/attempts/{id}/evidence/` `{"evidence_type": "test_result", '
        '"uri": "ci://runs/1842", "content": "42 passed"}` (and `outcomes/`, '
        "`decisions/`); `POST /api/v1/attempts/{id}/heartbeat/` before the lease expires.\n"
        '5. `POST /api/v1/attempts/{id}/release/` `{"disposition": "completed"}` '
        "(or `blocked` after raising a blocker, `failed`, `handed_off`).\n\n"
        "Every response lists `next_actions`: the calls you may make now that would be "
        "accepted. The document's OpenAPI links lead from each step to the next.\n\n"
        "**Auth**: `Authorization: Bearer <token>` (`python manage.py create_agent NAME` "
        "prints one), or a staff admin session. Your identity (`agent:NAME` / `user:NAME`) is "
        "what the API records as worker, author and actor.\n\n"
        '**Errors** all look like `{"error": {"status", "code", "message", '
        '"fields"?, "details"?}}`. A database rule\'s refusal is 409 with code '
        "`kernel_rule` and the rule's exact message; `details` says what to do about it. An "
        "unknown query parameter of a list is a 400 naming the valid ones.\n\n"
        "**Formats**: timestamps are `YYYY-MM-DDTHH:MM:SSZ` (UTC); JSON columns (evidence "
        "`test_results`, `artifacts`, outcome `metadata`, audit values) are JSON values.\n\n"
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
    # The loop first: the work tag, its operations in loop order, links from step to step.
    "SORT_OPERATIONS": "system.api.schema.operation_order",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "system.api.schema.bound_integer_parameters",
        "system.api.schema.add_links",
    ],
    "TAGS": [
        {"name": "work", "description": "The agent loop: ready → claim → context → release."},
        {"name": "attempts", "description": "Your attempt: outcomes, decisions, heartbeat…"},
        {"name": "blockers", "description": "Raising and resolving blockers."},
        {"name": "leases", "description": "Locks on resources other than work items."},
        {"name": "roadmap", "description": "Roadmap items and their dependencies."},
        {"name": "assignments", "description": "Who works on what, in which role."},
        {"name": "programs", "description": "What agents work for (read-only; file bugs)."},
        {"name": "governance", "description": "Evidence, decisions, contracts, audit trail."},
        {"name": "deploy", "description": "The website deploy gate: claims, deployments."},
        {"name": "identity", "description": "Who you are and what your roles allow."},
    ],
    "SWAGGER_UI_SETTINGS": {"docExpansion": "list", "defaultModelsExpandDepth": 0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # stderr: gunicorn and systemd collect it; errors come with their tracebacks
    # (django.request logs every 5xx with exc_info).
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # One line per API request: MOTUS_API_LOG_LEVEL=WARNING silences it.
        "motus.api": {"level": os.environ.get("MOTUS_API_LOG_LEVEL", "INFO")},
    },
}

# Index names are the contract's (schema.json), some longer than the 30 characters Django
# keeps to for Oracle; SQLite has no such limit.
SILENCED_SYSTEM_CHECKS = ["models.E034", "axes.W001"]
