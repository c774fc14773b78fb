"""Pages readers share: what each one shows, so that a change purges exactly those pages.

A page readers share is cached outside the app (Varnish, in production) or by the app
itself (the embedded default: `SharedPageMiddleware` keeps whole pages in Django's cache,
which every server process shares). Either way each page carries surrogate keys naming
what it shows ("s106": story 106; "nav": the sections menu), collected while it renders
(`shows()`), and a change purges by key (`purge()`), as Varnish's xkey module and Fastly's
Surrogate-Key do. This layer is our own because neither library does it: Django's cache
middleware can only drop a whole cache, and Wagtail's frontend cache purges URLs, which
cannot name every listing page, feed and "related stories" box a story appears in.

Nothing is shared unless the code that renders it says so (`share_for()`); a page with a
CSRF token, a session, a cookie or a private `Cache-Control` never is. Staff who are signed
in (a session cookie) always get a fresh page.
"""

import hashlib
import logging
import secrets
import threading
import time
import urllib.request
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.error import URLError

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpResponse
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)

# Every purge writes a new token for each key it names, and for "*": a cached page is good
# while the tokens of its keys are those it was stored with.
VERSION_PREFIX = "shared-key:"
ANY_KEY = "*"
PAGE_PREFIX = "shared-page:"


@dataclass
class Shown:
    """What the page being rendered shows, and for how long readers may share it."""

    keys: set[str] = field(default_factory=set)
    seconds: int | None = None  # None: not shared
    # What the page prints goes out of date by then (today's date at midnight).
    good_for: int | None = None

    @property
    def share_seconds(self) -> int | None:
        if self.seconds is None or self.good_for is None:
            return self.seconds
        return max(0, min(self.seconds, self.good_for))


_shown: ContextVar[Shown | None] = ContextVar("broadsheet_shown", default=None)


def shows(*keys: str) -> None:
    """Record that the page being rendered shows what `keys` name (outside a request: nothing)."""
    shown = _shown.get()
    if shown is not None:
        shown.keys.update(keys)


def share_for(seconds: int) -> None:
    """Let readers share the page being rendered for at most `seconds` (the least asked wins)."""
    shown = _shown.get()
    if shown is not None and seconds >= 0:
        shown.seconds = seconds if shown.seconds is None else min(shown.seconds, seconds)


def good_for(seconds: int) -> None:
    """What the page being rendered prints is true for `seconds` more (today's date): if it
    is shared, not for longer. Shares nothing by itself."""
    shown = _shown.get()
    if shown is not None:
        shown.good_for = seconds if shown.good_for is None else min(shown.good_for, seconds)


def purge(*keys: str, taken_down: bool = False) -> None:
    """Forget every shared page that shows any of `keys`: in Django's cache, and in each
    Varnish named by BROADSHEET_VARNISH_URLS.

    Varnish is told at once, with a short timeout: a reader should see a correction within a
    second or two, and an unreachable Varnish must not hold up the editor who published it
    (its pages then age out after their s-maxage; the failure is logged). An update is a
    soft purge there (the old copy answers while one fetch brings the new one, and stays
    for grace if the app is down); what was `taken_down` is purged hard, never shown again.
    Varnish is told a second time BROADSHEET_PURGE_REPEAT_SECONDS later: a page that was
    rendering from the old data when the first purge arrived is stored after it, tagged
    like any other, and only a later purge reaches it.
    """
    keys = {key for key in keys if key}
    if not keys:
        return
    token = secrets.token_hex(8)
    keys_cache().set_many({VERSION_PREFIX + key: token for key in keys | {ANY_KEY}}, timeout=None)
    if not settings.BROADSHEET_VARNISH_URLS:
        return
    header = {"xkey-purge" if taken_down else "xkey-softpurge": " ".join(sorted(keys))}
    tell_varnish(header)
    repeat = settings.BROADSHEET_PURGE_REPEAT_SECONDS
    if repeat:
        timer = threading.Timer(repeat, tell_varnish, args=(header,))
        timer.daemon = True
        timer.start()


def tell_varnish(header: dict[str, str]) -> None:
    for address in settings.BROADSHEET_VARNISH_URLS:
        request = urllib.request.Request(address, method="PURGE", headers=header)
        try:
            with urllib.request.urlopen(request, timeout=settings.BROADSHEET_PURGE_TIMEOUT):
                pass
        except (URLError, OSError) as exc:
            logger.warning("Could not purge %s from %s: %s", header, address, exc)


def keys_cache():
    """Where the keys' tokens live: a cache that never drops an entry to make room
    (BROADSHEET_KEYS_CACHE), since a forgotten token would make a purged page look good."""
    return caches[settings.BROADSHEET_KEYS_CACHE]


def key_versions(keys) -> dict[str, str | None]:
    names = [VERSION_PREFIX + key for key in keys]
    found = keys_cache().get_many(names)
    return {key: found.get(name) for key, name in zip(keys, names, strict=True)}


FRAGMENT_PREFIX = "shared-part:"


def may_remember(request) -> bool:
    """Kept parts are for pages as readers see them: never for an editor's preview of a
    draft, which must neither be served a reader's copy nor leave its own behind."""
    return request is not None and not getattr(request, "is_preview", False)


def remembered(name: str, seconds: int, build):
    """`build()`'s result (a part of a page: its HTML, or a list it shows), kept in
    Django's cache for up to `seconds` until a purge names a key it showed.

    The keys `build` showed are shown again by each page that uses the kept copy, so a
    page that is itself shared is purged with the part. Drupal's render cache does the same
    with its cache tags; Django's `{% cache %}` tag can only expire a fragment by time.
    """
    key = FRAGMENT_PREFIX + name
    stored = cache.get(key)
    if stored is not None and key_versions(stored["keys"]) == stored["versions"]:
        shows(*stored["keys"])
        return stored["value"]
    before = keys_cache().get(VERSION_PREFIX + ANY_KEY)
    inner = Shown()
    token = _shown.set(inner)
    try:
        value = build()
    finally:
        _shown.reset(token)
    keys = sorted(inner.keys)
    shows(*keys)
    if inner.good_for is not None:
        good_for(inner.good_for)
    # Kept only if nothing was purged while it was built: it might already be stale.
    versions = key_versions(keys)
    if keys_cache().get(VERSION_PREFIX + ANY_KEY) == before:
        cache.set(key, {"value": value, "keys": keys, "versions": versions}, seconds)
    return value


# The app's own cache of whole pages (the embedded default) -------------------------------


def shareable_request(request) -> bool:
    """A reader's plain read: GET or HEAD, without a signed-in session."""
    return request.method in ("GET", "HEAD") and (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


PRIVATE = {"private", "no-store", "no-cache"}


def shareable_response(response) -> bool:
    """Not a page of one reader's own: no cookie set, none varied on, nothing private."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if "cookie" in response.get("Vary", "").lower():
        return False
    directives = {
        part.split("=")[0].strip().lower() for part in response.get("Cache-Control", "").split(",")
    }
    return not directives & PRIVATE


def page_key(request) -> str:
    address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return PAGE_PREFIX + hashlib.sha256(address.encode()).hexdigest()


class SharedPageMiddleware:
    """Marks pages readers may share (`Cache-Control: public`, the `xkey` header), and with
    BROADSHEET_PAGE_CACHE keeps them in Django's cache until a purge names one of their keys.

    Outermost in MIDDLEWARE, so a cached page skips everything else, and what it stores
    carries the headers every other middleware added (security, CSP).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not shareable_request(request):
            return self.get_response(request)
        keep = settings.BROADSHEET_PAGE_CACHE
        if keep:
            key = page_key(request)
            current = keys_cache().get(VERSION_PREFIX + ANY_KEY)
            stored = cache.get(key)
            if stored is not None and self.still_good(key, stored, current):
                return self.replay(stored)
        shown = Shown()
        token = _shown.set(shown)
        try:
            response = self.get_response(request)
        finally:
            _shown.reset(token)
        seconds = shown.share_seconds
        if seconds is None or not shareable_response(response):
            return response
        # Browsers ask again each time (unless the view gave its own max-age): the shared
        # cache answers them at once, and a purge reaches them too.
        max_age = {} if "max-age" in response.get("Cache-Control", "") else {"max_age": 0}
        patch_cache_control(response, public=True, s_maxage=seconds, **max_age)
        if shown.keys:
            response["xkey"] = " ".join(sorted(shown.keys))
        if keep and request.method == "GET" and seconds:
            self.store(key, response, shown, seconds=seconds, since=current)
        return response

    @staticmethod
    def still_good(key, stored, current) -> bool:
        """Nothing was purged since the page was stored, or nothing it shows was."""
        if stored["since"] == current:
            return True
        if key_versions(stored["versions"]) != stored["versions"]:
            return False
        # Good still: note the newer "*" so the next reader needs no key check.
        left = stored["until"] - time.time()
        if left <= 0:
            return False
        stored["since"] = current
        cache.set(key, stored, left)
        return True

    @staticmethod
    def store(key, response, shown, *, seconds, since) -> None:
        versions = key_versions(sorted(shown.keys))
        if keys_cache().get(VERSION_PREFIX + ANY_KEY) != since:
            return  # something was purged while this page rendered: it may be stale already
        stored = {
            "content": response.content,
            "headers": list(response.items()),
            "versions": versions,
            "since": since,
            "until": time.time() + seconds,
        }
        cache.set(key, stored, seconds)

    @staticmethod
    def replay(stored) -> HttpResponse:
        response = HttpResponse(stored["content"])
        for name, value in stored["headers"]:
            response[name] = value
        return response
