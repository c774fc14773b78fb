"""Settings shared by every way of running Broadsheet.

Only the settings package reads the environment. Every value has an embedded default that
runs on one machine (SQLite, the in-process cache, the database task queue, email written
to files); a variable switches each one to its scaled-out counterpart.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = BASE_DIR.parent
# Everything the embedded default writes at run time (database, media, mail) lives here.
VAR_DIR = Path(os.environ.get("BROADSHEET_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "broadsheet.core",
    "broadsheet.news",
    # Before the apps that react to stories, so the demo's readers find agency copy too.
    "broadsheet.wire",
    "broadsheet.engagement",
    "broadsheet.newsletter",
    "broadsheet.distribution",
    "broadsheet.search",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "django_tasks_db",
    "anymail",
    "axes",
    "csp",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    # Outermost: a page readers share is answered from the cache before anything else runs.
    "broadsheet.core.caching.SharedPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A database that is down or restarting answers 503 with Retry-After, not 500.
    "broadsheet.core.health.DatabaseUnavailableMiddleware",
    "broadsheet.core.csp.NewsroomCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Turns a sign-in refused for too many failures into the "locked" page (below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "broadsheet.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "broadsheet.news.context_processors.newsroom",
            ],
        },
    },
]

WSGI_APPLICATION = "broadsheet.wsgi.application"

# Database: SQLite in var/ unless DATABASE_URL names another (postgres://user@host/db).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'broadsheet.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections persist (CONN_MAX_AGE above): opening one per request re-runs the
    # PRAGMAs, and closing the last one checkpoints the WAL; together they took over a
    # fifth of a worker's time under load (bench/README.md).
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers carry on while a writer commits; IMMEDIATE transactions take the
        # write lock up front, so concurrent writers queue instead of failing with
        # "database is locked" half-way through a transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: files under var/cache by default, so every server process on the machine shares
# one copy (of tallies, and of whole pages: BROADSHEET_PAGE_CACHE); REDIS_URL switches it
# to Redis. "keys" holds the tokens that purges write (broadsheet/core/caching.py): it
# must never drop an entry to make room, so the file cache under it never culls, and Redis
# must evict only keys with a timeout (maxmemory-policy volatile-lru; the tokens have none).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
        for alias, prefix in (("default", "broadsheet"), ("keys", "broadsheet-keys"))
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache" / "default"),
            # Past this many files a third are dropped (Django lists the folder on each
            # write to count them, so it is kept modest).
            "OPTIONS": {"MAX_ENTRIES": 20000},
        },
        "keys": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache" / "keys"),
            "OPTIONS": {"MAX_ENTRIES": 10**9},
        },
    }
BROADSHEET_KEYS_CACHE = "keys"

# Pages readers share (broadsheet/core/caching.py). The app keeps whole pages in its own
# cache unless a cache in front (Varnish) does it: BROADSHEET_PAGE_CACHE=off then.
BROADSHEET_PAGE_CACHE = env_bool("BROADSHEET_PAGE_CACHE", True)
# Varnish servers to purge (comma-separated addresses, e.g. http://127.0.0.1:6181).
BROADSHEET_VARNISH_URLS = env_list("BROADSHEET_VARNISH_URLS")
BROADSHEET_PURGE_TIMEOUT = float(os.environ.get("BROADSHEET_PURGE_TIMEOUT", "1"))
# Varnish is purged again this long after each purge, for pages that were rendering from
# the old data when the first arrived (broadsheet/core/caching.py). 0: once only.
BROADSHEET_PURGE_REPEAT_SECONDS = float(os.environ.get("BROADSHEET_PURGE_REPEAT_SECONDS", "1.5"))
# How long a shared cache may keep each kind of page before asking again. Purges make
# changes show at once; these bound what is shown "as of" a render and never purged: a
# listing's comment counts, an article's vote tally for readers without JavaScript, and
# its related stories (docs/decisions/0004-what-shared-pages-show-of-readers.md).
BROADSHEET_SHARE_SECONDS = {
    "story": int(os.environ.get("BROADSHEET_SHARE_STORY_SECONDS", "300")),
    "listing": int(os.environ.get("BROADSHEET_SHARE_LISTING_SECONDS", "60")),
    "feed": int(os.environ.get("BROADSHEET_SHARE_FEED_SECONDS", "300")),
    "search": int(os.environ.get("BROADSHEET_SHARE_SEARCH_SECONDS", "60")),
}

# Rate limits (broadsheet/core/ratelimit.py) are counted where every server process sees one
# count: in Redis when it is there, otherwise in the database.
BROADSHEET_RATE_LIMIT_STORE = "cache" if REDIS_URL else "database"

# Background tasks: the database queue (worked by `manage.py db_worker`) unless
# TASK_BACKEND names another dotted path, such as django_tasks_rq.RQBackend.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
if TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend":
    # The queue on Redis (RQ), worked by
    # `manage.py rqworker default --job-class django_tasks_rq.Job --with-scheduler`: the
    # scheduler is what runs deferred tasks (scheduled publishing, the newsletter's send
    # time) when their time comes. REDIS_URL names the server, shared with the cache.
    TASKS["default"]["QUEUES"] = ["default"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

# Admin sign-in is throttled by django-axes: failed attempts are counted in the database, so
# every server process sees the same count. An account that fails AXES_FAILURE_LIMIT times
# (from anywhere), or an address that fails BROADSHEET_SIGN_IN_FAILURES_PER_ADDRESS times
# (whatever the accounts; higher, as a whole newsroom may share one address), is locked for
# the cool-off or until a superuser lifts it (admin › Settings › Sign-in locks).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("BROADSHEET_SIGN_IN_FAILURES", "5"))
BROADSHEET_SIGN_IN_FAILURES_PER_ADDRESS = int(
    os.environ.get("BROADSHEET_SIGN_IN_FAILURES_PER_ADDRESS", "25")
)
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("BROADSHEET_SIGN_IN_LOCK_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = "broadsheet.core.sign_in.lockout_parameters"
AXES_RESET_ON_SUCCESS = True
# The reader's address as every other limit sees it (trusted proxies included).
AXES_CLIENT_IP_CALLABLE = "broadsheet.core.http.client_address"
AXES_LOCKOUT_TEMPLATE = "core/sign_in_locked.html"
# The Django admin is not served; locks are shown in the Wagtail admin instead.
AXES_ENABLE_ADMIN = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# The newsroom's time zone: every date a reader or editor sees is shown in it.
TIME_ZONE = os.environ.get("NEWSROOM_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True
# The house style for dates (broadsheet/core/formats/): one short form everywhere.
FORMAT_MODULE_PATH = ["broadsheet.core.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# Absolute (https://media.example-paper.com/) when uploads are served from another origin.
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Whitenoise serves static files but not run-time uploads; on one machine Django serves
# media itself, behind a CDN or S3 this is switched off.
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

# Content-Security-Policy on every page (django-csp; Django 6 has it built in): the site
# serves all its own scripts, styles, fonts and images, so the policy names only 'self'
# (and the media origin when uploads are served from elsewhere). The admin's exceptions
# are in broadsheet/core/csp.py; a view that needs more says so with csp_update.
MEDIA_ORIGIN = ["/".join(MEDIA_URL.split("/")[:3])] if "://" in MEDIA_URL else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *MEDIA_ORIGIN],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

# Email: one .eml file per message under var/mail by default (open them in any mail program).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "broadsheet.core.mail.EmlFileBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"

# The wire desk's files: drop folders under drop/, every file as received under received/
# (private: never served).
WIRE_DIR = Path(os.environ.get("BROADSHEET_WIRE_DIR", VAR_DIR / "wire"))
WIRE_STORAGE_DIR = WIRE_DIR / "received"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "newsroom@broadsheet.invalid")

# Wagtail
WAGTAIL_SITE_NAME = os.environ.get("BROADSHEET_SITE_NAME", "The Northgate Courier")
WAGTAILADMIN_BASE_URL = os.environ.get("BROADSHEET_BASE_URL", "http://127.0.0.1:8000")
WAGTAILIMAGES_IMAGE_MODEL = "news.Photo"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAIL_I18N_ENABLED = False
WAGTAILEMBEDS_RESPONSIVE_HTML = True
# Nothing in the admin reaches outside the machine: no avatars from gravatar.com (Wagtail's
# own initials avatar is shown instead), no release check against wagtail.org.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
TAGGIT_CASE_INSENSITIVE = True

# Newsroom
# Stories per page on section, tag, author, agency and archive listings.
BROADSHEET_LISTING_PAGE_SIZE = 20

# Feeds (broadsheet/distribution): items carry the whole story, or only its standfirst.
BROADSHEET_FEED_FULL_TEXT = env_bool("BROADSHEET_FEED_FULL_TEXT", True)
# Stories per feed.
BROADSHEET_FEED_LENGTH = int(os.environ.get("BROADSHEET_FEED_LENGTH", "30"))
# A WebSub hub (e.g. https://pubsubhubbub.appspot.com/): feeds name it, and the worker pings
# it when a story is published, updated or taken down. Empty: no hub, no pings.
BROADSHEET_WEBSUB_HUB = os.environ.get("BROADSHEET_WEBSUB_HUB", "")
# The language the paper publishes in, for the Google News sitemap and feeds.
BROADSHEET_LANGUAGE = os.environ.get("BROADSHEET_LANGUAGE", "en")

# The daily newsletter: confirmation links expire; re-sending waits; sign-ups per address.
BROADSHEET_NEWSLETTER_CONFIRM_DAYS = 7
BROADSHEET_NEWSLETTER_RESEND_SECONDS = 600
BROADSHEET_NEWSLETTER_SIGNUPS_PER_ADDRESS_PER_HOUR = 20
# Sending (broadsheet/newsletter/sending/). The daily issue may go through another
# backend than the site's own mail, e.g. an email service through django-anymail:
# NEWSLETTER_EMAIL_BACKEND=anymail.backends.postmark.EmailBackend.
BROADSHEET_NEWSLETTER_EMAIL_BACKEND = os.environ.get("NEWSLETTER_EMAIL_BACKEND", "")
# Connections sending at once: each message waits for four replies, so one connection to
# a relay a few milliseconds away manages a few hundred messages a second at best.
BROADSHEET_NEWSLETTER_CONNECTIONS = int(os.environ.get("NEWSLETTER_CONNECTIONS", "1"))
# Many servers cap messages per connection (Gmail at about 100); a new one every 100.
BROADSHEET_NEWSLETTER_MESSAGES_PER_CONNECTION = int(
    os.environ.get("NEWSLETTER_MESSAGES_PER_CONNECTION", "100")
)
# Seconds to wait before each new try after a temporary (4xx) refusal; then it fails.
BROADSHEET_NEWSLETTER_RETRY_DELAYS = [60, 300, 1800, 7200]
# Seconds between attempts to reach a mail server that dropped or refused the connection.
BROADSHEET_NEWSLETTER_RECONNECT_DELAYS = [1, 2, 4, 8, 16]
# Permanent refusals in a row that stop a run: a server refusing everyone is misconfigured,
# and suppressing the whole list because of it would be a disaster.
BROADSHEET_NEWSLETTER_MAX_REFUSALS_IN_A_ROW = 25
# Per-reader delivery rows are kept this long after an issue is sent (the send log's
# failures list); the issue keeps its counts for ever.
BROADSHEET_NEWSLETTER_KEEP_DELIVERIES_DAYS = 30

# django-anymail, for an email service: every ANYMAIL_* environment variable becomes a key
# of ANYMAIL (ANYMAIL_POSTMARK_SERVER_TOKEN -> POSTMARK_SERVER_TOKEN), so any service it
# supports is set up from the environment alone. WEBHOOK_SECRET guards tracking webhooks.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_")
}

# Readers: votes and comments (see broadsheet/engagement/readers.py for what these stop).
# How many proxies (Varnish, a load balancer) stand in front and add X-Forwarded-For.
BROADSHEET_TRUSTED_PROXIES = int(os.environ.get("BROADSHEET_TRUSTED_PROXIES", "0"))
BROADSHEET_VOTES_PER_ADDRESS_PER_MINUTE = int(
    os.environ.get("BROADSHEET_VOTES_PER_ADDRESS_PER_MINUTE", "120")
)
# New readers' votes one address may add to one story in an hour (readers behind one
# address share it; see docs/readers.md for the trade-off).
BROADSHEET_NEW_VOTERS_PER_ADDRESS_PER_STORY_PER_HOUR = int(
    os.environ.get("BROADSHEET_NEW_VOTERS_PER_ADDRESS_PER_STORY_PER_HOUR", "5")
)
BROADSHEET_COMMENTS_PER_ADDRESS_PER_HOUR = int(
    os.environ.get("BROADSHEET_COMMENTS_PER_ADDRESS_PER_HOUR", "30")
)
BROADSHEET_COMMENTS_PER_READER_PER_MINUTE = 3
BROADSHEET_COMMENTS_CLOSE_AFTER_DAYS = int(
    os.environ.get("BROADSHEET_COMMENTS_CLOSE_AFTER_DAYS", "14")
)
BROADSHEET_COMMENT_MAX_LENGTH = 5000
BROADSHEET_FLAGS_TO_HOLD = 3
# Other readers see a new vote within this many seconds; the voter sees it at once.
BROADSHEET_TALLY_CACHE_SECONDS = 3
# A math challenge is valid for this long, and not answerable sooner than a person types.
BROADSHEET_CHALLENGE_MAX_AGE = 2 * 3600
BROADSHEET_CHALLENGE_MIN_SECONDS = 3
BROADSHEET_COMMENT_SCORERS = [
    "broadsheet.engagement.scoring.LinkScorer",
    "broadsheet.engagement.scoring.MarkupScorer",
    "broadsheet.engagement.scoring.RepetitionScorer",
    "broadsheet.engagement.scoring.BlockedTermScorer",
    "broadsheet.engagement.scoring.BlockedAddressScorer",
]
# An outside spam service (HttpScorer): set the URL to add it to the scorers.
BROADSHEET_SPAM_SERVICE_URL = os.environ.get("BROADSHEET_SPAM_SERVICE_URL", "")
if BROADSHEET_SPAM_SERVICE_URL:
    BROADSHEET_COMMENT_SCORERS.append("broadsheet.engagement.scoring.HttpScorer")
BROADSHEET_SCORING_TIMEOUT = float(os.environ.get("BROADSHEET_SCORING_TIMEOUT", "2"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task run drowns everything else; failures are still logged.
        "django_tasks": {"level": os.environ.get("TASK_LOG_LEVEL", "WARNING")},
        # RQ's worker logs three lines per task at INFO; failures are still logged.
        "rq.worker": {"level": os.environ.get("TASK_LOG_LEVEL", "WARNING")},
        # django-axes logs every sign-in at INFO; a lock-out is a WARNING and still shows.
        "axes": {"level": "WARNING"},
    },
}
