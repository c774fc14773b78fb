"""How a page looks when it is shared: Open Graph (Facebook, LinkedIn, messaging apps)
and Twitter card meta, on every page.

A story's card shows its headline, its standfirst and its lead photo cropped to
1200x630, the size those previews draw large; a page without a photo shows the paper's
card image (static/broadsheet/social-card.png, drawn by scripts/make_brand_images.py).
What a page is called, where it lives and what it says are worked out here once, and
the structured data (structured_data.py) reuses them.
"""

from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils import dateformat, timezone
from PIL import Image
from wagtail.models import Page, Site

from broadsheet.news.models import Author, HomePage, StoryPage
from broadsheet.news.paper import absolute_url, paper_name

from .crawlers import crawler_directives

# Open Graph's recommended size, which Twitter's large card also fits (1.91:1). JPEG,
# because every preview client reads it and a photo is smaller so than as PNG or WebP.
CARD_PHOTO = "fill-1200x630|format-jpeg"
CARD_IMAGE = "broadsheet/social-card.png"
LOGO = "broadsheet/logo.png"


@dataclass(frozen=True)
class CardImage:
    url: str  # absolute
    width: int
    height: int
    alt: str
    type: str


@dataclass
class SocialCard:
    """What a share preview of the page shows; `meta()` gives its tags."""

    site_name: str
    title: str
    description: str
    url: str
    locale: str
    image: CardImage | None
    type: str = "website"
    published_time: str = ""
    modified_time: str = ""
    section: str = ""
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)  # profile pages, absolute

    def meta(self) -> list[tuple[str, str, str]]:
        """(attribute, name, content) for each <meta>: Open Graph tags are `property`,
        Twitter's are `name`, as each spec says. Empty values are left out."""
        tags = [
            ("property", "og:site_name", self.site_name),
            ("property", "og:type", self.type),
            ("property", "og:title", self.title),
            ("property", "og:description", self.description),
            ("property", "og:url", self.url),
            ("property", "og:locale", self.locale),
        ]
        if self.image:
            tags += [
                ("property", "og:image", self.image.url),
                ("property", "og:image:type", self.image.type),
                ("property", "og:image:width", str(self.image.width)),
                ("property", "og:image:height", str(self.image.height)),
                ("property", "og:image:alt", self.image.alt),
            ]
        if self.type == "article":
            tags += [
                ("property", "article:published_time", self.published_time),
                ("property", "article:modified_time", self.modified_time),
                ("property", "article:section", self.section),
            ]
            tags += [("property", "article:author", author) for author in self.authors]
            tags += [("property", "article:tag", tag) for tag in self.tags]
        tags += [
            ("name", "twitter:card", "summary_large_image" if self.image else "summary"),
            ("name", "twitter:title", self.title),
            ("name", "twitter:description", self.description),
        ]
        if self.image:
            tags += [
                ("name", "twitter:image", self.image.url),
                ("name", "twitter:image:alt", self.image.alt),
            ]
        return [(attribute, name, content) for attribute, name, content in tags if content]


# What the page is -----------------------------------------------------------------------


def site_of(context) -> Site | None:
    request = context.get("request")
    return Site.find_for_request(request) if request is not None else None


def story_of(context) -> StoryPage | None:
    page = context.get("page")
    return page if isinstance(page, StoryPage) else None


def page_url(context) -> str:
    """The page's absolute canonical address (the one crawler_meta links to); an editor's
    preview, which has none, is named by the address it was asked for."""
    canonical, _ = crawler_directives(context)
    if canonical:
        return canonical
    request = context.get("request")
    return absolute_url(request.path, site_of(context)) if request is not None else ""


def page_title(context) -> str:
    """What the page is called, without the paper's name after it: a view may say so
    (`social_title` in its context); otherwise the page's or the listing's own name."""
    if context.get("social_title"):
        return str(context["social_title"])
    page = context.get("page")
    if isinstance(page, HomePage):
        return paper_name(site_of(context))
    if isinstance(page, Page):
        return page.seo_title or page.title
    for name in ("author", "agency", "tag"):
        if context.get(name) is not None:
            return context[name].name
    if context.get("period") and context.get("start"):
        shape = {"day": "j F Y", "month": "F Y"}.get(context["period"], "Y")
        return "Stories from " + dateformat.format(context["start"], shape)
    if context.get("months") is not None:
        return "Archive"
    return paper_name(site_of(context))


def page_description(context) -> str:
    """One or two sentences about the page: a story's standfirst, a section's intro, an
    author's role, or a line naming the paper."""
    if context.get("social_description"):
        return str(context["social_description"])
    page = context.get("page")
    if isinstance(page, Page):
        specific_text = getattr(page, "standfirst", "") or getattr(page, "intro", "")
        if page.search_description or specific_text:
            return page.search_description or specific_text
    author = context.get("author")
    if isinstance(author, Author) and (author.role or author.bio):
        return author.role or author.bio
    agency = context.get("agency")
    if agency is not None and getattr(agency, "about", ""):
        return agency.about
    return f"News, comment and analysis from {paper_name(site_of(context))}."


def story_section(story: StoryPage, context) -> str:
    """The section or blog a story is in: the breadcrumb's last step, which the page has
    already loaded, so naming it costs no query."""
    crumbs = context.get("breadcrumbs")
    crumbs = list(crumbs) if crumbs is not None else []
    parent = crumbs[-1] if crumbs else story.get_parent()
    return parent.title if parent is not None and parent.depth > 2 else ""


def iso(moment) -> str:
    return timezone.localtime(moment).isoformat() if moment else ""


def story_times(story: StoryPage) -> tuple[str, str]:
    """(published, last updated) as ISO 8601 in the newsroom's zone, as the byline's
    <time> elements print them; "last updated" is the real one (minor updates don't
    move it), else the first publication."""
    published = story.first_published_at
    return iso(published), iso(story.last_updated_at or published)


def og_locale(language: str) -> str:
    """Open Graph writes locales as language_TERRITORY: "en-gb" is "en_GB"."""
    primary, _, territory = language.replace("_", "-").partition("-")
    return primary.lower() + ("_" + territory.upper() if territory else "")


# Images -------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def static_size(path: str) -> tuple[int, int] | None:
    """A static image's pixel size, read once per process from the file itself."""
    found = finders.find(path)
    if not found:
        return None
    with Image.open(found) as image:
        return image.size


def static_image(path: str, *, alt: str, site: Site | None) -> CardImage | None:
    size = static_size(path)
    if size is None:
        return None
    return CardImage(absolute_url(static(path), site), size[0], size[1], alt, "image/png")


def logo(site: Site | None) -> CardImage | None:
    """The paper's logo (the publisher's, in structured data)."""
    return static_image(LOGO, alt=paper_name(site), site=site)


def fallback_image(site: Site | None) -> CardImage | None:
    return static_image(CARD_IMAGE, alt=paper_name(site), site=site)


def rendition_image(photo, spec: str, *, alt: str, site: Site | None) -> CardImage:
    rendition = photo.get_rendition(spec)
    kind = "image/" + ("jpeg" if "format-jpeg" in spec else rendition.file.name.rsplit(".")[-1])
    return CardImage(
        absolute_url(rendition.url, site), rendition.width, rendition.height, alt, kind
    )


def photo_alt(story: StoryPage) -> str:
    """What the lead photo shows: its description (the alt text), else the caption."""
    photo = story.lead_photo
    return (photo.default_alt_text if photo else "") or story.lead_photo_caption or story.title


# The card -----------------------------------------------------------------------------


def social_card(context) -> SocialCard:
    """The share preview of whatever page `context` renders."""
    site = site_of(context)
    card = SocialCard(
        site_name=paper_name(site),
        title=page_title(context),
        description=page_description(context),
        url=page_url(context),
        locale=og_locale(settings.LANGUAGE_CODE),
        image=fallback_image(site),
    )
    story = story_of(context)
    if story is None:
        return card
    if story.lead_photo_id:
        card.image = rendition_image(story.lead_photo, CARD_PHOTO, alt=photo_alt(story), site=site)
    authors, agency = story.byline_names()
    card.type = "article"
    card.published_time, card.modified_time = story_times(story)
    card.section = story_section(story, context)
    card.tags = [tag.name for tag in story.tag_list]
    card.authors = [absolute_url(author.get_absolute_url(), site) for author in authors]
    if agency is not None:
        card.authors.append(absolute_url(agency.get_absolute_url(), site))
    return card
