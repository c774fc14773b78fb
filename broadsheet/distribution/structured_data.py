"""schema.org structured data (JSON-LD) for search engines' news results.

An article is a `NewsArticle` (a blog post a `BlogPosting`) with the same headline,
dates, byline, section, breadcrumb and corrections the reader sees, because search
engines compare the two and distrust a page whose data says otherwise. Everything is
built as a dict here and written by `to_json_ld`, which escapes it for a <script>.
The front page says what the site is (`WebSite`); sections and listings that they are
collections (`CollectionPage`). Other pages carry none.
"""

import json

from django.core.paginator import Page as ListingPage
from django.core.serializers.json import DjangoJSONEncoder
from wagtail.models import Page, Site

from broadsheet.news.models import BlogPostPage, HomePage, StoryPage
from broadsheet.news.paper import absolute_url, paper_name, root_url

from .social import (
    logo,
    page_description,
    page_title,
    page_url,
    photo_alt,
    site_of,
    story_of,
    story_section,
    story_times,
)

SCHEMA = "https://schema.org"
# Google asks for images at least 1200 px wide in 16x9, 4x3 and 1x1; Wagtail's fill never
# enlarges, so a smaller photo gives its own largest crop instead.
ARTICLE_PHOTOS = (
    "fill-1200x675|format-jpeg",
    "fill-1200x900|format-jpeg",
    "fill-1200x1200|format-jpeg",
)
# Inside <script>, "</script>" or "<!--" in a headline would end or bend the element:
# the same characters Django's json_script filter escapes, as JSON escapes.
SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def to_json_ld(data: dict) -> str:
    """`data` as JSON that can sit inside <script type="application/ld+json"> as it is."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(SCRIPT_ESCAPES)


def publisher(site: Site | None) -> dict:
    """The paper, as the publisher of everything on the site."""
    data = {
        "@type": "NewsMediaOrganization",
        "@id": root_url(site) + "/#publisher",
        "name": paper_name(site),
        "url": root_url(site) + "/",
    }
    mark = logo(site)
    if mark is not None:
        data["logo"] = {
            "@type": "ImageObject",
            "url": mark.url,
            "width": mark.width,
            "height": mark.height,
        }
    return data


def website(site: Site | None) -> dict:
    return {
        "@type": "WebSite",
        "@id": root_url(site) + "/#website",
        "name": paper_name(site),
        "url": root_url(site) + "/",
        "publisher": {"@id": root_url(site) + "/#publisher"},
    }


def byline(story: StoryPage, site: Site | None) -> list[dict]:
    """The byline in order: staff as `Person`s with their author pages, then the agency
    as an `Organization` (its full name; the byline prints its short one)."""
    authors, agency = story.byline_names()
    people = []
    for author in authors:
        person = {
            "@type": "Person",
            "name": author.name,
            "url": absolute_url(author.get_absolute_url(), site),
        }
        if author.role:
            person["jobTitle"] = author.role
        people.append(person)
    if agency is not None:
        organization = {
            "@type": "Organization",
            "name": agency.name,
            "alternateName": agency.byline_name,
            "url": absolute_url(agency.get_absolute_url(), site),
        }
        if agency.website:
            organization["sameAs"] = agency.website
        people.append(organization)
    return people


def article_images(story: StoryPage, site: Site | None) -> list[dict]:
    photo = story.lead_photo if story.lead_photo_id else None
    if photo is None:
        return []
    renditions = photo.get_renditions(*ARTICLE_PHOTOS)  # one lookup, prefetched on the page
    images = []
    for spec in ARTICLE_PHOTOS:
        rendition = renditions[spec]
        image = {
            "@type": "ImageObject",
            "url": absolute_url(rendition.url, site),
            "width": rendition.width,
            "height": rendition.height,
        }
        if story.lead_photo_caption or photo.default_alt_text:
            image["caption"] = story.lead_photo_caption or photo_alt(story)
        if photo.credit:
            image["creditText"] = photo.credit
        images.append(image)
    return images


def breadcrumb_list(crumbs, *, request, url: str) -> dict:
    """The breadcrumb exactly as components/breadcrumb.html prints it: the front page
    as "Home", then each section, with their full addresses."""
    return {
        "@type": "BreadcrumbList",
        "@id": url + "#breadcrumb",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "name": "Home" if crumb.depth == 2 else crumb.title,
                "item": crumb.get_full_url(request),
            }
            for position, crumb in enumerate(crumbs, start=1)
        ],
    }


def article(story: StoryPage, context) -> dict:
    """A story's `NewsArticle` (or `BlogPosting`) and its breadcrumb, as one graph."""
    site, request = site_of(context), context.get("request")
    url = page_url(context)
    published, modified = story_times(story)
    data = {
        "@type": "BlogPosting" if isinstance(story, BlogPostPage) else "NewsArticle",
        "@id": url + "#article",
        "headline": story.title,
        "description": story.standfirst,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": published,
        "dateModified": modified,
        "author": byline(story, site),
        "publisher": publisher(site),
        "inLanguage": story.language_tag,
        "isAccessibleForFree": True,
    }
    images = article_images(story, site)
    if images:
        data["image"] = images
    if story.dateline:
        data["dateline"] = story.dateline
    section = story_section(story, context)
    if section:
        data["articleSection"] = section
    tags = [tag.name for tag in story.tag_list]
    if tags:
        data["keywords"] = tags
    corrections = [
        {"@type": "CorrectionComment", "text": correction.note, "datePublished": correction.date}
        for correction in story.corrections.all()
    ]
    if corrections:
        data["correction"] = corrections
    graph = [data]
    crumbs = context.get("breadcrumbs")
    if crumbs is not None and request is not None:
        graph.append(breadcrumb_list(crumbs, request=request, url=url))
    return {"@context": SCHEMA, "@graph": graph}


def collection(context) -> dict:
    """A section, blog, author, agency, tag or archive listing: what it is, and whose."""
    site = site_of(context)
    url = page_url(context)
    return {
        "@context": SCHEMA,
        "@graph": [
            {
                "@type": "CollectionPage",
                "@id": url,
                "url": url,
                "name": page_title(context),
                "description": page_description(context),
                "isPartOf": website(site),
                "publisher": publisher(site),
            }
        ],
    }


def is_listing(context) -> bool:
    """A page of the paper that lists stories (or corrections)."""
    page = context.get("page")
    if isinstance(page, Page) and not isinstance(page, HomePage | StoryPage):
        return True
    return any(isinstance(context.get(name), ListingPage) for name in ("stories", "page_obj"))


def structured_data(context) -> dict | None:
    """The JSON-LD for the page `context` renders, or None for a page that needs none
    (forms, search results, the newsletter's pages)."""
    if context.get("request") is None:
        return None
    story = story_of(context)
    if story is not None:
        return article(story, context)
    if isinstance(context.get("page"), HomePage):
        site = site_of(context)
        return {"@context": SCHEMA, "@graph": [website(site), publisher(site)]}
    if is_listing(context) and getattr(context["request"].resolver_match, "namespace", "") != (
        "search"
    ):
        return collection(context)
    return None
