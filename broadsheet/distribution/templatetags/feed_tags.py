"""Feed autodiscovery: the <link rel="alternate"> tags that let browsers and feed readers
find a page's own feeds from its address."""

from dataclasses import dataclass

from django import template
from django.urls import NoReverseMatch
from taggit.models import Tag
from wagtail.models import Page, Site

from broadsheet.news.models import Agency, Author, BlogIndexPage, SectionPage

from ..feeds import (
    FORMAT_NAMES,
    GENERATORS,
    FeedSource,
    agency_feed,
    author_feed,
    blog_feed,
    corrections_feed,
    front_feed,
    section_feed,
    tag_feed,
)

register = template.Library()


@dataclass(frozen=True)
class FeedLink:
    title: str
    type: str
    href: str


def sources_for(context, site: Site) -> list[FeedSource]:
    """The feeds a page belongs with: its own (a section's, a blog's, a tag's, an
    author's, an agency's or the corrections'), then the front page's, which every page
    offers."""
    page = context.get("page")
    own = None
    if isinstance(page, Page):
        kind = page.specific_class
        if kind is not None and issubclass(kind, SectionPage):
            own = section_feed(site, page)
        elif kind is not None and issubclass(kind, BlogIndexPage):
            own = blog_feed(site, page)
    elif isinstance(context.get("tag"), Tag):
        own = tag_feed(site, context["tag"])
    elif isinstance(context.get("author"), Author):
        own = author_feed(site, context["author"])
    elif isinstance(context.get("agency"), Agency):
        own = agency_feed(site, context["agency"])
    elif context.get("corrections") is not None:
        own = corrections_feed(site)
    return [own, front_feed(site)] if own else [front_feed(site)]


@register.simple_tag(takes_context=True)
def feed_links(context) -> list[FeedLink]:
    """Each feed of the page in each format, for `feed_links.html`; no query of its own
    beyond the request's site, which Wagtail has already looked up."""
    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return []
    links = []
    for source in sources_for(context, site):
        for filename, generator in GENERATORS.items():
            try:
                href = source.url(filename)
            except NoReverseMatch:  # a slug set in code that no feed address can spell
                continue
            mime_type = generator.content_type.split(";")[0]
            links.append(FeedLink(f"{source.title} ({FORMAT_NAMES[filename]})", mime_type, href))
    return links
