"""Settings for serving readers: refuses to start without a secret key and allowed hosts."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool

if not SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` and export it."
    )

if not os.environ.get("ALLOWED_HOSTS", "").strip():
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. Name the host names readers use, separated by commas, "
        "e.g. ALLOWED_HOSTS=www.example-paper.com,example-paper.com"
    )

DEBUG = False
# Behind HTTPS (the normal case) cookies are marked secure; the one-machine demo on
# http://127.0.0.1 turns this off with HTTPS=false.
HTTPS = env_bool("HTTPS", True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
if HTTPS:
    # The TLS-terminating proxy in front says the reader came over HTTPS; plain HTTP is
    # redirected, and browsers are told to use HTTPS only (HSTS) for a year.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Varnish probes the app over plain HTTP on loopback (deploy/varnish/broadsheet.vcl).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Joining browsers' preload lists (hstspreload.org) is the paper's own decision,
        # hard to undo; `check --deploy` would warn until it is taken.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
