"""What the newsroom's pages show, as surrogate keys (broadsheet/core/caching.py). A change
to a story purges every page that showed it and every listing it now belongs to
(`services.purge_story`).

    s<id>          the story itself, wherever it is shown: its page, cards on listings,
                   related stories, feeds, search results
    in-<id>        a listing of what is under page <id>: the front page, a section (with
                   its subsections), a blog, and their feeds
    tag-<id>, author-<id>, agency-<id>
                   a tag's, an author's or an agency's listing and feed; author and agency
                   keys also mark every byline printing their name
    nav            the sections menu on every page
    archive, corrections, sitemaps
                   the date archive, the corrections page and feed, the sitemaps

A page's comments are engagement's (engagement/templatetags), purged by moderation.
"""

from django.conf import settings

from broadsheet.core.caching import share_for, shows

NAV = "nav"
ARCHIVE = "archive"
CORRECTIONS = "corrections"
SITEMAPS = "sitemaps"


def story_key(story_id: int) -> str:
    return f"s{story_id}"


def listing_key(page_id: int) -> str:
    return f"in-{page_id}"


def tag_key(tag_id: int) -> str:
    return f"tag-{tag_id}"


def author_key(author_id: int) -> str:
    return f"author-{author_id}"


def agency_key(agency_id: int) -> str:
    return f"agency-{agency_id}"


def shared_as(kind: str, *keys: str) -> None:
    """The page being rendered may be shared for as long as its `kind` allows
    (BROADSHEET_SHARE_SECONDS: story, listing, feed, search) and shows `keys`."""
    share_for(settings.BROADSHEET_SHARE_SECONDS[kind])
    shows(*keys)
