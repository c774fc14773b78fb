"""How an anonymous reader is recognised, and how fast one address may act.

A reader is a random id in a signed, first-party, HttpOnly cookie, set by the engagement
endpoints (never by a cached page). It stops a reader voting twice by accident or by
reloading, and lets them change their vote. It cannot stop someone who clears cookies or
scripts fresh ones: the per-address rate limits are the net behind it, and they cannot tell
apart readers sharing an address (an office, a mobile carrier), so they are generous.
"""

import hashlib
import hmac
import uuid

from django.conf import settings
from django.core.cache import cache

from broadsheet.core.errors import BroadsheetError

READER_COOKIE = "bs_reader"
READER_SALT = "broadsheet.engagement.reader"
READER_COOKIE_AGE = 2 * 365 * 24 * 3600


class RateLimited(BroadsheetError):
    """Too many actions from one address or reader in a short time."""


def reader_from(request) -> tuple[str, bool]:
    """The reader's id and whether it is new (the response must then set the cookie)."""
    value = request.get_signed_cookie(
        READER_COOKIE, default=None, salt=READER_SALT, max_age=READER_COOKIE_AGE
    )
    if value and len(value) == 32 and value.isalnum():
        return value, False
    return uuid.uuid4().hex, True


def remember_reader(request, response, reader: str) -> None:
    response.set_signed_cookie(
        READER_COOKIE,
        reader,
        salt=READER_SALT,
        max_age=READER_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def client_address(request) -> str:
    """The reader's IP address: REMOTE_ADDR, or the proxy's view of it when trusted.

    X-Forwarded-For is only believed when BROADSHEET_TRUSTED_PROXIES says how many proxies
    (Varnish, a load balancer) stand in front; otherwise anyone could pick their address.
    """
    proxies = settings.BROADSHEET_TRUSTED_PROXIES
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def address_hash(address: str) -> str:
    """A keyed hash of an address: enough to group abuse, not to recover the address."""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def check_rate(*, scope: str, key: str, limit: int, window: int, message: str) -> None:
    """Count one action for `key`; refuse it when more than `limit` fall in `window` seconds.

    A fixed window in the cache: shared by every server process when the cache is Redis,
    per process with the in-process default (the limit then applies per process).
    """
    cache_key = f"ratelimit:{scope}:{key}"
    if cache.add(cache_key, 1, timeout=window):
        return
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return
    if count > limit:
        raise RateLimited(message)
