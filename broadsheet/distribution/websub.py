"""WebSub (https://www.w3.org/TR/websub/): telling a hub that feeds have changed, so feed
readers subscribed through it hear of a breaking story in seconds instead of at their next
poll.

The feeds name the hub (BROADSHEET_WEBSUB_HUB) beside their own address; when a story is
published, updated or withdrawn, `announce_story()` (run by the worker, through
`tasks.announce_story_task`) tells the hub about every feed that lists it. The hub then
fetches those feeds and pushes what is new to its subscribers.
"""

import logging
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import checks

from broadsheet.news.models import StoryPage
from broadsheet.news.signals import UNPUBLISHED

from .feeds import feed_urls_listing

logger = logging.getLogger(__name__)

# Seconds a hub has to answer each notice: a slow hub holds up only the worker.
HUB_TIMEOUT = 5


def notify_hub(*, hub: str, topics: Iterable[str], timeout: float | None = None) -> int:
    """POST `hub.mode=publish` and `hub.url=<topic>` to `hub`, one request per feed.

    The WebSub recommendation leaves the publisher's notice to each hub; this form is the
    one the public hubs (Google's, Superfeedr, WebSub.rocks) accept. One feed per request,
    because not every hub takes several `hub.url`s in one. Returns how many notices the
    hub accepted (2xx). A hub that refuses one feed is logged and the others are still
    sent; a hub that cannot be reached at all is logged once and the rest are skipped.
    Never raises: a hub's trouble must not reach whoever published the story. Each notice
    waits at most `timeout` seconds (HUB_TIMEOUT when None).
    """
    timeout = timeout or HUB_TIMEOUT
    accepted = 0
    for topic in topics:
        body = urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
        request = urllib.request.Request(
            hub,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "Broadsheet (WebSub publisher)",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read(4096)
        except urllib.error.HTTPError as error:
            logger.warning("WebSub hub %s refused %s: HTTP %s", hub, topic, error.code)
            continue
        except (urllib.error.URLError, OSError, ValueError) as error:
            # URLError, a refused connection or a time-out: the hub is down, so the
            # other feeds would wait the same time-out each for nothing.
            logger.warning("WebSub hub %s cannot be reached (%s): not notified", hub, error)
            return accepted
        accepted += 1
    return accepted


def announce_story(*, story_id: int, change: str) -> int:
    """Tell the hub about every feed that lists (or, when withdrawn, listed) a story.

    Returns how many feeds the hub accepted. The story is read by its id, not through
    `for_readers`: a withdrawn story is no longer for readers, yet the feeds it left must
    be told. A published story readers still cannot see (a section behind a password)
    changed no feed, so nothing is sent for it.
    """
    hub = settings.BROADSHEET_WEBSUB_HUB
    if not hub:
        return 0
    story = StoryPage.objects.filter(pk=story_id).first()
    if story is None:
        return 0
    site = story.get_site()
    if site is None:
        return 0
    if change != UNPUBLISHED and not StoryPage.objects.for_readers(site).filter(pk=story_id):
        return 0
    return notify_hub(hub=hub, topics=feed_urls_listing(story))


@checks.register(checks.Tags.compatibility)
def check_hub_setting(app_configs=None, **kwargs):
    """A hub address that is not an http(s) URL fails at start-up, not at each publish."""
    hub = settings.BROADSHEET_WEBSUB_HUB
    if not hub:
        return []
    parts = urlsplit(hub)
    if parts.scheme in ("http", "https") and parts.netloc:
        return []
    return [
        checks.Error(
            f"BROADSHEET_WEBSUB_HUB={hub!r} is not an http(s) address.",
            hint="Set it to the hub's URL, e.g. https://pubsubhubbub.appspot.com/, or leave "
            "it empty for no hub.",
            id="distribution.E001",
        )
    ]
