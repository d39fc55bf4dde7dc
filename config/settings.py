"""Settings for Reference Registry, driven by environment variables.

Defaults are safe for a developer's machine: SQLite in ``var/``, DEBUG off unless asked for.
Production sets ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL`` and ``REGISTRY_URI_BASE``.
The project's own settings are prefixed ``REGISTRY_``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# The key that signs sessions and CSRF tokens. From the environment; else from a file of this
# machine's own (REGISTRY_SECRET_KEY_FILE, default var/secret-key: bin/setup writes a random
# one, readable only by its owner, so a laptop needs no set-up); else, only with DEBUG, a
# fixed development key. Without any of them the service refuses to start: a key anyone can
# read in this file would let anyone forge a curator's session.
SECRET_KEY_FILE = Path(os.environ.get("REGISTRY_SECRET_KEY_FILE", BASE_DIR / "var" / "secret-key"))
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY and SECRET_KEY_FILE.is_file():
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be set in the environment (or in {SECRET_KEY_FILE}, which "
            "bin/setup writes for a single machine)."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

INSTALLED_APPS = [
    # First, so that its admin/base_site.html (the registry's admin styles) is found before
    # Django's, which it extends.
    "registry",
    # Django's admin, with the registry's site (registry/admin_site.py) as its default.
    "registry.admin_site.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Tokens for the write API (api/curation.py), issued to automation users in the admin.
    "rest_framework.authtoken",
    "django_filters",
    # The lookup API's OpenAPI document, and its Swagger UI/Redoc assets served locally.
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "geography",
    "api",
]

MIDDLEWARE = [
    # Before anything reads the body: a declared size over the endpoint's limit is a 413.
    "api.service.RequestSizeLimit",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The pages' language, English or Welsh (?lang=cy, then a cookie): api/i18n.py.
    "api.i18n.PageLanguage",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "api.i18n.context",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# SQLite is the embedded default so a newcomer needs no server; DATABASE_URL (for example
# postgres://user:pass@host:5432/registry) switches to PostgreSQL, the production database.
SQLITE_PATH = Path(os.environ.get("REGISTRY_SQLITE_PATH", BASE_DIR / "var" / "registry.sqlite3"))
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{SQLITE_PATH}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    # WAL lets the server's readers carry on while a load writes; a busy timeout instead of
    # "database is locked" errors under concurrent requests.
    # Write transactions take the write lock when they begin (BEGIN IMMEDIATE): a deferred
    # one that read first and then wrote after another writer committed would fail at once
    # with "database is locked" rather than wait its turn, so two curators saving together
    # got a 500. Now the second waits up to the busy timeout, then reads what the first
    # wrote (and is refused with 409 if it started from an older version).
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": int(os.environ.get("REGISTRY_SQLITE_BUSY_SECONDS", "20")),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Connections persist (CONN_MAX_AGE, as for PostgreSQL): opening one per request costs
    # about a millisecond, and when the last one closes SQLite checkpoints and removes the
    # WAL, which the next request recreates; under two gunicorn workers that races into busy
    # waits of tens of milliseconds (benchmarks/README.md, documents: 220 → 600+ req/s).

# A persistent connection is checked before each request reuses it, so a database restart
# costs the requests in flight at that moment, not the next one of every worker.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Streaming replicas of a PostgreSQL primary (comma-separated URLs): public reads go to them,
# writes and a writer's own reads to the primary (registry/replicas.py), each an alias
# replica1, replica2… that tests mirror onto the default database.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", "")
REGISTRY_REPLICAS = []
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _alias = f"replica{_number}"
    DATABASES[_alias] = dj_database_url.parse(
        _url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True
    )
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    REGISTRY_REPLICAS.append(_alias)
if REGISTRY_REPLICAS and "postgresql" not in DATABASES["default"]["ENGINE"]:
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL")
# A replica more than this many seconds behind the primary is out of rotation; each process
# checks every replica this often; a client that wrote reads from the primary this long.
REGISTRY_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REGISTRY_REPLICA_MAX_LAG_SECONDS", "5"))
REGISTRY_REPLICA_CHECK_SECONDS = float(os.environ.get("REGISTRY_REPLICA_CHECK_SECONDS", "5"))
REGISTRY_PRIMARY_PIN_SECONDS = int(os.environ.get("REGISTRY_PRIMARY_PIN_SECONDS", "30"))
if REGISTRY_PRIMARY_PIN_SECONDS < REGISTRY_REPLICA_MAX_LAG_SECONDS + REGISTRY_REPLICA_CHECK_SECONDS:
    # Shorter, and a writer could read a replica that has not yet replayed their write.
    raise ImproperlyConfigured(
        "REGISTRY_PRIMARY_PIN_SECONDS must be at least REGISTRY_REPLICA_MAX_LAG_SECONDS + "
        "REGISTRY_REPLICA_CHECK_SECONDS"
    )
if REGISTRY_REPLICAS:
    DATABASE_ROUTERS = ["registry.replicas.ReplicaRouter"]
    # Before the session is read: where a request reads is decided before its first query.
    MIDDLEWARE.insert(1, "registry.replicas.ReadRouting")


# What answers point lookups (geography/spatial.py): "shapely", the in-process index over the
# boundary rows, on any database; "postgis", ST_Covers over a GiST index on PostgreSQL with the
# PostGIS extension (geography/postgis.py); "auto" (the default), postgis where the migrations
# could create the extension, else shapely. postgis on another database is refused here, so
# the mistake stops the start rather than the first lookup.
REGISTRY_SPATIAL_ENGINE = os.environ.get("REGISTRY_SPATIAL_ENGINE", "").strip().lower() or "auto"
if REGISTRY_SPATIAL_ENGINE not in ("auto", "shapely", "postgis"):
    raise ImproperlyConfigured(
        f"REGISTRY_SPATIAL_ENGINE must be auto, shapely or postgis; got {REGISTRY_SPATIAL_ENGINE!r}"
    )
if REGISTRY_SPATIAL_ENGINE == "postgis" and "postgresql" not in DATABASES["default"]["ENGINE"]:
    raise ImproperlyConfigured(
        "REGISTRY_SPATIAL_ENGINE=postgis needs a PostgreSQL DATABASE_URL with the PostGIS "
        "extension; on SQLite use shapely (or auto, which chooses it)"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# The public pages in English and Welsh (api/i18n.py); the catalogue is locale/cy/.
LANGUAGES = [("en-gb", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "registry_language"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# Production is safe by default: secure cookies and HSTS whenever DEBUG is off. A developer
# serving plain http on localhost sets REGISTRY_INSECURE_HTTP=true (the serve script does).
_secure = not DEBUG and not env_bool("REGISTRY_INSECURE_HTTP", False)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SECURE_HSTS_SECONDS = 31536000 if _secure else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _secure
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# A refused or finished admin login returns to the admin, never to a page that does not exist.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# How many reverse proxies in front of the server append to X-Forwarded-For (0: none, the
# peer's address is the client's). Login throttling, reconciliation and lookup API rate
# limits count per client address (registry.auth.client_address, DRF's NUM_PROXIES).
REGISTRY_TRUSTED_PROXIES = int(os.environ.get("REGISTRY_TRUSTED_PROXIES", "0"))
if REGISTRY_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("REGISTRY_TRUSTED_PROXIES must be 0 or more")
# X-Forwarded-Proto says whether the client used https only when a proxy of ours set it;
# without one any client could send it (and be told its plain http was secure).
if REGISTRY_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # No HTTP Basic: it would let anyone guess passwords through the API, unthrottled. The
    # write API (api/curation.py) adds token authentication itself.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    # JSON bodies read by api.http.loads: malformed, too deep or unstorable text is a 400.
    "DEFAULT_PARSER_CLASSES": [
        "api.v1.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # The lookup API (api/v1): an OpenAPI schema from the views, and per-client rate limits
    # (requests per client address), generous by default.
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_METADATA_CLASS": "api.v1.metadata.RegistryMetadata",
    # Counted in the "throttle" cache, which every worker (and with Redis every node) shares.
    "DEFAULT_THROTTLE_RATES": {
        "lookup": os.environ.get("REGISTRY_API_RATE_LOOKUP", "100/second"),
        "bulk": os.environ.get("REGISTRY_API_RATE_BULK", "120/minute"),
    },
    # DRF's own reading of X-Forwarded-For, for any throttle not keyed by client_address:
    # without it DRF keys on the whole header, which a client forges.
    "NUM_PROXIES": REGISTRY_TRUSTED_PROXIES,
}

# The lookup API's OpenAPI document and its documentation pages (assets from the sidecar
# package, so the pages work offline).
SPECTACULAR_SETTINGS = {
    "TITLE": "Reference Registry lookup API",
    "DESCRIPTION": "Codes, identifiers, names and dates of UK reference data, as at any date.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Describe only the lookup API (/api/v1/), whatever other DRF views the site has.
    "PREPROCESSING_HOOKS": ["api.v1.schema.only_lookup_api"],
    "ENUM_NAME_OVERRIDES": {
        "EventKindEnum": "registry.models.EVENT_KIND",
        "NameKindEnum": "registry.models.NAME_KIND",
        "LookupKindEnum": "api.v1.bulk.KINDS",
    },
}
# How long clients and shared caches may keep a lookup API answer (seconds).
REGISTRY_API_CACHE_SECONDS = int(os.environ.get("REGISTRY_API_CACHE_SECONDS", "3600"))
# How long nginx in front (deploy/nginx.conf's cache) may answer a public read itself
# (seconds; 0: never): every answer marked public carries X-Accel-Expires with the shorter of
# this and its max-age, which nginx reads, in place of Cache-Control, and does not pass on.
# Short, so that an edit is everyone's within seconds; clients and other caches still keep
# an answer for its max-age and revalidate it (304) after.
REGISTRY_FRONT_CACHE_SECONDS = int(os.environ.get("REGISTRY_FRONT_CACHE_SECONDS", "10"))
# The largest CSV file the code checker takes, in bytes (413 beyond).
REGISTRY_CHECKER_MAX_BYTES = int(os.environ.get("REGISTRY_CHECKER_MAX_BYTES", "209715200"))
# Files checked through the code checker's web form are kept here for their download link,
# for this many seconds (api/v1/results.py); a folder every serving machine shares.
REGISTRY_CHECKER_RESULTS_DIR = Path(
    os.environ.get("REGISTRY_CHECKER_RESULTS_DIR", BASE_DIR / "var" / "checker-results")
)
REGISTRY_CHECKER_RESULTS_SECONDS = int(os.environ.get("REGISTRY_CHECKER_RESULTS_SECONDS", "3600"))
# The largest ONS change file the admin's import takes.
REGISTRY_CHANGE_IMPORT_MAX_BYTES = int(
    os.environ.get("REGISTRY_CHANGE_IMPORT_MAX_BYTES", str(20 * 1024 * 1024))
)
# How long a request's body may take to arrive after its headers (408 beyond).
REGISTRY_BODY_SECONDS = float(os.environ.get("REGISTRY_BODY_SECONDS", "10"))
# How long a client is told to wait (Retry-After) when the database is down or busy.
REGISTRY_RETRY_AFTER_SECONDS = int(os.environ.get("REGISTRY_RETRY_AFTER_SECONDS", "10"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Failed admin logins allowed per client address and per username before a lock-out, and
# how long the lock-out lasts (registry/auth.py). Counted in a cache shared by all workers.
REGISTRY_LOGIN_ATTEMPTS = int(os.environ.get("REGISTRY_LOGIN_ATTEMPTS", "5"))
REGISTRY_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("REGISTRY_LOGIN_LOCKOUT_SECONDS", "900"))
# Reconciliation's per-client limit: queries a second on average, and the most in one burst
# (api/reconcile/responses.py), counted in the shared "throttle" cache.
REGISTRY_RECONCILE_RATE = float(os.environ.get("REGISTRY_RECONCILE_RATE", "200"))
REGISTRY_RECONCILE_BURST = float(os.environ.get("REGISTRY_RECONCILE_BURST", "2000"))


def cache_for(url: str, default_location: Path, part: str = "") -> dict:
    """A Django cache from ``REGISTRY_CACHE_URL``: empty, a file cache in ``default_location``
    (shared by every worker of one machine, no server needed, counters atomic under a file
    lock: registry/cache.py); ``redis://…`` (or ``rediss://``), django-redis's cache, shared
    by every node; ``file:///path``, a file cache there. ``part`` keeps one use of the cache
    apart from the others: its own folder under ``file:///path``, its own key prefix in
    Redis. (django-redis, not Django's own Redis backend, which builds a new redis-py client
    for every operation: 0.5 ms of CPU each with redis-py 8, more than a cached document.)"""
    scheme, _, rest = url.partition("://")
    if scheme.lower() in ("redis", "rediss"):
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": part,
        }
    if not url or scheme.lower() == "file":
        location = Path(rest) / part if url and part else Path(rest) if url else default_location
        return {
            "BACKEND": "registry.cache.FileCache",
            "LOCATION": str(location),
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    raise ImproperlyConfigured(f"REGISTRY_CACHE_URL {url!r}: use redis://…, rediss://… or file://…")


# Both caches are shared by every process that answers (every worker, and with Redis every
# node), so a body rendered by one worker serves the others and a count made by one limits
# them all. "default" holds rendered documents and lookup API answers, each under its
# validator (api/documents/base.py, api/v1/views/base.py); "throttle" holds the login, lookup
# API and reconciliation counts.
REGISTRY_CACHE_URL = os.environ.get("REGISTRY_CACHE_URL", "").strip()
CACHES = {
    "default": cache_for(
        REGISTRY_CACHE_URL,
        Path(os.environ.get("REGISTRY_RENDER_CACHE", str(BASE_DIR / "var" / "cache"))),
        part="render",
    ),
    "throttle": cache_for(
        REGISTRY_CACHE_URL,
        Path(os.environ.get("REGISTRY_THROTTLE_CACHE", str(BASE_DIR / "var" / "throttle"))),
    ),
}

# The base of every persistent URI the registry mints. Never taken from the request host:
# a URI must not change with the server that answers it.
REGISTRY_URI_BASE = os.environ.get("REGISTRY_URI_BASE", "http://127.0.0.1:8000").rstrip("/")

# Where the curated reference data lives (see fixtures/SOURCES.md).
REGISTRY_FIXTURES_DIR = Path(os.environ.get("REGISTRY_FIXTURES_DIR", BASE_DIR / "fixtures"))

# The SPARQL endpoint (/sparql, registry/sparql.py): where its Oxigraph store lives, whether
# writes update it (tests turn this off for the shared store), how long one query may run and
# how large its answer may be.
REGISTRY_SPARQL_STORE = Path(os.environ.get("REGISTRY_SPARQL_STORE", BASE_DIR / "var" / "oxigraph"))
REGISTRY_SPARQL_UPDATES = env_bool("REGISTRY_SPARQL_UPDATES", True)
REGISTRY_SPARQL_SECONDS = float(os.environ.get("REGISTRY_SPARQL_SECONDS", "10"))
REGISTRY_SPARQL_MAX_BYTES = int(os.environ.get("REGISTRY_SPARQL_MAX_BYTES", str(20 * 1024 * 1024)))
