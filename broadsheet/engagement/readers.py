"""How an anonymous reader is recognised, and how fast one address may act.

A reader is a random id in a signed, first-party, HttpOnly cookie, set by the engagement
endpoints (never by a cached page). It stops a reader voting twice by accident or by
reloading, and lets them change their vote. It cannot stop someone who clears cookies or
scripts fresh ones: the per-address rate limits are the net behind it, and they cannot tell
apart readers sharing an address (an office, a mobile carrier), so they are generous.
"""

import uuid

# Shared with the newsletter; engagement code reaches them through this module.
from broadsheet.core.http import client_address  # noqa: F401
from broadsheet.core.ratelimit import RateLimited, address_hash, check_rate  # noqa: F401

READER_COOKIE = "bs_reader"
READER_SALT = "broadsheet.engagement.reader"
READER_COOKIE_AGE = 2 * 365 * 24 * 3600


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
