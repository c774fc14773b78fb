"""Fixed-window rate limits, counted where every server process sees the same count.

With Redis (REDIS_URL) the counts live in the cache, whose INCR is atomic. Otherwise they
live in the database, one row per limit and window, moved by a single
INSERT ... ON CONFLICT DO UPDATE ... RETURNING statement (SQLite 3.35+ and PostgreSQL):
Django's database and file caches increment in two steps (read, then write), so two
processes counting at once could both slip under a limit.
"""

import hashlib
import hmac
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from .errors import BroadsheetError
from .models import RateCount


class RateLimited(BroadsheetError):
    """Too many actions from one address or reader in a short time."""


def address_hash(address: str) -> str:
    """A keyed hash of an address: enough to group abuse, not to recover the address."""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def check_rate(*, scope: str, key: str, limit: int, window: int, message: str) -> None:
    """Count one action for `key`; refuse it when more than `limit` fall in `window` seconds.

    Windows are aligned to the clock (an hour's window runs from the top of the hour), so
    every process agrees on which window an action falls in.
    """
    now = timezone.now()
    start = int(now.timestamp()) // window * window
    window_key = f"ratelimit:{scope}:{key}:{start}"
    if settings.BROADSHEET_RATE_LIMIT_STORE == "cache":
        count = _count_in_cache(window_key, window)
    else:
        count = _count_in_database(
            window_key, expires_at=datetime.fromtimestamp(start + window, tz=now.tzinfo), now=now
        )
    if count > limit:
        raise RateLimited(message)


def _count_in_cache(window_key: str, window: int) -> int:
    if cache.add(window_key, 1, timeout=window):
        return 1
    try:
        return cache.incr(window_key)
    except ValueError:  # expired between add and incr
        cache.add(window_key, 1, timeout=window)
        return 1


def _count_in_database(window_key: str, *, expires_at: datetime, now: datetime) -> int:
    table = connection.ops.quote_name(RateCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, count, expires_at) VALUES (%s, 1, %s) "
            f"ON CONFLICT (key) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [window_key, connection.ops.adapt_datetimefield_value(expires_at)],
        )
        (count,) = cursor.fetchone()
    if count == 1:
        # A new window began: windows that ended are of no more use.
        RateCount.objects.filter(expires_at__lt=now - timedelta(seconds=1)).delete()
    return count
