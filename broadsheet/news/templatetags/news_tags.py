import re
from datetime import datetime, time, timedelta

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from wagtail.models import Site

from broadsheet.core.caching import good_for, may_remember, remembered, shows

from ..cache_keys import agency_key, author_key, listing_key, story_key, tag_key
from ..models import text_direction

register = template.Library()


@register.simple_tag
def edition_date(format_string):
    """Today's date in the newsroom's time zone, as the masthead prints it. A shared copy
    of the page is kept no later than midnight, so no reader is shown yesterday's date."""
    now = timezone.localtime()
    midnight = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=now.tzinfo)
    good_for(int((midnight - now).total_seconds()) + 1)
    return format_date(now, format_string)


@register.simple_tag
def load_story(story):
    """Read what the story's own parts show (StoryPage.load_for_page), and mark the page
    or the kept part as showing the story; prints nothing."""
    story.load_for_page()
    shows(story_key(story.pk))
    return ""


@register.simple_tag
def shown(story):
    """Mark the page being rendered as showing `story` (a card, a related story), so that
    a change to the story purges it; prints nothing."""
    shows(story_key(story.pk))
    return ""


OPENING_PARAGRAPH = re.compile(r"^\s*<p\b[^>]*>")


@register.inclusion_tag("components/byline_names.html")
def byline_names(story):
    """The names a byline prints: the authors, linked to their pages, then the agency."""
    authors, agency = story.byline_names()
    # A renamed author or agency purges every byline printing the name.
    shows(*(author_key(author.pk) for author in authors))
    if agency:
        shows(agency_key(agency.pk))
    return {"authors": authors, "agency": agency}


@register.simple_tag
def story_language(story):
    """The attributes that mark a story's own copy with its language: ` lang="ar" dir="rtl"`.

    Nothing for a story in the site's language; `dir` only when the story is written the
    other way from the site, so the site's chrome around it never needs one.
    """
    language = story.foreign_language
    if not language:
        return ""
    if story.text_direction == text_direction(settings.LANGUAGE_CODE):
        return format_html(' lang="{}"', language)
    return format_html(' lang="{}" dir="{}"', language, story.text_direction)


@register.simple_tag
def site_language(story):
    """The attributes that give the site's own words back their language inside a story's
    copy (the byline's "By … - Last updated at …"): nothing when the story is the site's."""
    if not story.foreign_language:
        return ""
    site = settings.LANGUAGE_CODE.lower()
    if story.text_direction == text_direction(site):
        return format_html(' lang="{}"', site)
    return format_html(' lang="{}" dir="{}"', site, text_direction(site))


@register.simple_tag(takes_context=True)
def story_body(context, story):
    """The story body, with the dateline opening its first paragraph ("BEIRUT —").

    The dateline is typeset inside the paragraph, as newspapers print it, rather than as
    a separate line; the first paragraph block's opening <p> tag is where it goes.
    """
    parts = []
    # <bdi>: a Latin place name in Arabic copy (or the reverse) keeps its own direction.
    dateline = format_html('<span class="dateline"><bdi>{}</bdi> —</span> ', story.dateline.upper())
    dateline_pending = bool(story.dateline)
    for block in story.body:
        html = block.render(context=context.flatten())
        if dateline_pending and block.block_type == "paragraph":
            html, count = OPENING_PARAGRAPH.subn(lambda m: m.group(0) + dateline, html, count=1)
            dateline_pending = count == 0
        parts.append(html)
    return mark_safe("".join(parts))  # each block renders escaped HTML


@register.simple_tag(takes_context=True)
def related_stories(context, story):
    """The story's "Related stories" box, kept rendered between renders of the page until
    a story in it changes, or one is published in its section or under its tags (the
    box's query and cards were a third of an uncached article page)."""
    request = context.get("request")
    site = Site.find_for_request(request) if request else None

    def build():
        # The page has read the breadcrumb (its ancestors) already: the last is the parent.
        crumbs = list(context.get("breadcrumbs") or [])
        parent = crumbs[-1] if crumbs else story.get_parent()
        shows(listing_key(parent.pk), *(tag_key(tag.pk) for tag in story.tag_list))
        related = story.related_stories(site=site)
        return render_to_string(
            "components/related_stories.html", {"related_stories": related}, request=request
        )

    if not may_remember(request):
        return mark_safe(build())
    seconds = settings.BROADSHEET_SHARE_SECONDS["story"]
    return mark_safe(remembered(f"related:{site.pk if site else 0}:{story.pk}", seconds, build))
