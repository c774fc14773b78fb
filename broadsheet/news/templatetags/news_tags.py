import re

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ..models import text_direction

register = template.Library()

OPENING_PARAGRAPH = re.compile(r"^\s*<p\b[^>]*>")


@register.inclusion_tag("components/byline_names.html")
def byline_names(story):
    """The names a byline prints: the authors, linked to their pages, then the agency."""
    authors, agency = story.byline_names()
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
