"""Fixed-window rate limits kept in the cache."""

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache

from .errors import BroadsheetError


class RateLimited(BroadsheetError):
    """Too many actions from one address or reader in a short time."""


def address_hash(address: str) -> str:
    """A keyed hash of an address: enough to group abuse, not to recover the address."""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def check_rate(*, scope: str, key: str, limit: int, window: int, message: str) -> None:
    """Count one action for `key`; refuse it when more than `limit` fall in `window` seconds.

    Shared by every server process when the cache is Redis, per process with the
    in-process default (the limit then applies per process).
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
