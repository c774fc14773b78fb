"""The paper's feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the front page, each section,
tag, author, agency and blog.

As in Django's syndication framework, what a feed lists is kept apart from how it is
written. A `FeedSource` says what one feed lists (its stories, of what readers may see,
and its title and links); `feed_items()` turns its newest stories into `FeedItem`s; the
generators below write them as RSS, Atom or JSON Feed; `serve_feed` answers a request,
with a 304 when the reader already has the current copy.

Addresses, one set per source, three formats each:

    /feeds/rss.xml  /feeds/atom.xml  /feeds/feed.json                 the front page
    /feeds/sections/news/world/rss.xml …                              a section
    /feeds/tags/<slug>/…  /feeds/authors/<slug>/…  /feeds/agencies/<slug>/…  /feeds/blogs/<slug>/…
    /feeds/corrections/…                                                every correction
"""

import hashlib
import json
import logging
import mimetypes
from calendar import timegm
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

import nh3
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import Context
from django.urls import NoReverseMatch, re_path, reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.feedgenerator import (
    Atom1Feed,
    Enclosure,
    Rss201rev2Feed,
    SyndicationFeed,
    rfc3339_date,
)
from django.utils.html import escape
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_safe
from taggit.models import Tag
from wagtail.images.models import SourceImageIOError
from wagtail.models import Site

from broadsheet.core.caching import share_for, shows
from broadsheet.news.cache_keys import (
    CORRECTIONS,
    agency_key,
    author_key,
    listing_key,
    story_key,
    tag_key,
)
from broadsheet.news.models import (
    Agency,
    Author,
    BlogIndexPage,
    Correction,
    SectionPage,
    StoryPage,
    StoryTag,
    corrections_for_readers,
)
from broadsheet.news.paper import absolute_url, paper_name, root_url
from broadsheet.news.templatetags.news_tags import story_body

logger = logging.getLogger(__name__)

# The one size of the lead photo every feed carries: wide enough for a reader's full-width
# card, and JPEG because every feed reader shows JPEG (not all show WebP or AVIF).
LEAD_PHOTO_RENDITION = "width-1200|format-jpeg"
# Raise when the feeds' output changes shape in code, so readers' cached copies (ETags)
# stop matching.
FEED_OUTPUT_VERSION = 1
# How long a feed may be kept by readers and caches without asking again.
FEED_MAX_AGE = 300

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DUBLIN_CORE_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_RSS_NS = "http://search.yahoo.com/mrss/"


# How feeds are written --------------------------------------------------------------
#
# Each item dict carries, besides Django's own keys: `authors` (names, in byline order),
# `content_html` (the full text, or "" for summaries only), `summary_text` (the
# standfirst as plain text), `photo` (a FeedPhoto or None) and `item_language`.
# `description` is the standfirst escaped as HTML, as RSS and Atom's type="html" expect.


@dataclass(frozen=True)
class FeedPhoto:
    """The lead photo as a feed carries it: one rendition, its size read from its file."""

    url: str
    length: int
    mime_type: str
    width: int
    height: int
    caption: str
    credit: str

    @property
    def description(self) -> str:
        """The caption as the page prints it, the credit in parentheses at the end."""
        return f"{self.caption} ({self.credit})" if self.credit else self.caption


def write_media_content(handler, photo: FeedPhoto) -> None:
    """Media RSS's <media:content>: what readers that show a picture per item read,
    with the dimensions and caption an RSS enclosure cannot carry."""
    handler.startElement(
        "media:content",
        {
            "url": photo.url,
            "type": photo.mime_type,
            "medium": "image",
            "width": str(photo.width),
            "height": str(photo.height),
            "fileSize": str(photo.length),
        },
    )
    if photo.description:
        handler.addQuickElement("media:description", photo.description, {"type": "plain"})
    if photo.credit:
        handler.addQuickElement("media:credit", photo.credit)
    handler.endElement("media:content")


class RssFeed(Rss201rev2Feed):
    """RSS 2.0 with the full text (content:encoded), one dc:creator per name, Media RSS,
    and the WebSub hub beside the self link."""

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": CONTENT_NS,
            "xmlns:dc": DUBLIN_CORE_NS,
            "xmlns:media": MEDIA_RSS_NS,
        }

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        if self.feed.get("hub"):
            handler.addQuickElement("atom:link", None, {"rel": "hub", "href": self.feed["hub"]})

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        # RSS's own <author> must be an email address, which bylines do not print.
        for name in item["authors"]:
            handler.addQuickElement("dc:creator", name)
        if item["content_html"]:
            handler.addQuickElement("content:encoded", item["content_html"])
        if item["photo"]:
            write_media_content(handler, item["photo"])


class AtomFeed(Atom1Feed):
    """Atom 1.0 with every author, the full text as <content>, Media RSS, the story's own
    language (xml:lang) when it is not the site's, and the WebSub hub."""

    def root_attributes(self):
        return {**super().root_attributes(), "xmlns:media": MEDIA_RSS_NS}

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        if self.feed.get("hub"):
            handler.addQuickElement("link", "", {"rel": "hub", "href": self.feed["hub"]})

    def item_attributes(self, item):
        return {"xml:lang": item["item_language"]} if item["item_language"] else {}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")
        if item["content_html"]:
            handler.addQuickElement("content", item["content_html"], {"type": "html"})
        if item["photo"]:
            write_media_content(handler, item["photo"])


class JsonFeed(SyndicationFeed):
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).

    Django's feedgenerator writes RSS and Atom only. JSON Feed is one JSON document, so a
    small generator over the same item dicts lets one Feed class serve all three formats,
    where a third-party package would bring its own, different, idea of a feed item.
    """

    content_type = "application/feed+json; charset=utf-8"
    version = "https://jsonfeed.org/version/1.1"

    def write(self, outfile, encoding):
        outfile.write(json.dumps(self.document(), ensure_ascii=False))

    def document(self) -> dict:
        feed = self.feed
        document = {
            "version": self.version,
            "title": feed["title"],
            "home_page_url": feed["link"],
            "feed_url": feed["feed_url"],
            "description": feed["description"],
            "language": feed["language"],
        }
        if feed["author_name"]:
            document["authors"] = [{"name": feed["author_name"]}]
        if feed.get("hub"):
            document["hubs"] = [{"type": "WebSub", "url": feed["hub"]}]
        document["items"] = [self.item_document(item) for item in self.items]
        return document

    def item_document(self, item) -> dict:
        entry = {"id": item["unique_id"], "url": item["link"], "title": item["title"]}
        if item["content_html"]:
            entry["content_html"] = item["content_html"]
        else:
            entry["content_text"] = item["summary_text"]
        entry["summary"] = item["summary_text"]
        if item["photo"]:
            entry["image"] = item["photo"].url
        if item["pubdate"]:
            entry["date_published"] = rfc3339_date(item["pubdate"])
        if item["updateddate"]:
            entry["date_modified"] = rfc3339_date(item["updateddate"])
        if item["authors"]:
            entry["authors"] = [{"name": name} for name in item["authors"]]
        if item["categories"]:
            entry["tags"] = list(item["categories"])
        if item["item_language"]:
            entry["language"] = item["item_language"]
        if item["photo"]:
            photo = item["photo"]
            entry["attachments"] = [
                {
                    "url": photo.url,
                    "mime_type": photo.mime_type,
                    "size_in_bytes": photo.length,
                    "title": photo.description,
                }
            ]
        return entry


GENERATORS = {"rss.xml": RssFeed, "atom.xml": AtomFeed, "feed.json": JsonFeed}
FORMAT_NAMES = {"rss.xml": "RSS", "atom.xml": "Atom", "feed.json": "JSON Feed"}


# What a feed lists ------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSource:
    """One feed's subject: what it lists (`stories`, always read from `for_readers`),
    what it is called and where it lives. Building one runs no query."""

    kind: str  # "front", "section", "tag", "author", "agency" or "blog"
    site: Site
    stories: QuerySet
    title: str
    description: str
    link: str  # the page the feed belongs to, absolute
    route: str  # the URL name, in the distribution namespace
    # The surrogate key of what it lists (news/cache_keys.py): purged with its listing.
    key: str
    route_kwargs: dict = field(default_factory=dict)
    # What the feed's items are made of: its newest stories (`feed_items`), or for the
    # corrections feed its newest corrections.
    itemize: Callable[..., list["FeedItem"]] | None = None

    def path(self, filename: str) -> str:
        """The feed's path in one format (`filename`: rss.xml, atom.xml or feed.json)."""
        return reverse(
            f"distribution:{self.route}", kwargs={**self.route_kwargs, "filename": filename}
        )

    def url(self, filename: str) -> str:
        return absolute_url(self.path(filename), self.site)

    def urls(self) -> list[str]:
        return [self.url(filename) for filename in GENERATORS]


def section_path(section: SectionPage) -> str:
    """A section's place under its site's front page, as feed addresses spell it:
    "news/world". Wagtail keeps the site roots cached, so this runs no query."""
    parts = section.get_url_parts()
    return parts[2].strip("/") if parts else ""


def front_feed(site: Site) -> FeedSource:
    name = paper_name(site)
    return FeedSource(
        kind="front",
        key=listing_key(site.root_page_id),
        site=site,
        stories=StoryPage.objects.for_readers(site),
        title=name,
        description=f"The latest stories from {name}.",
        link=root_url(site) + "/",
        route="feed",
    )


def section_feed(site: Site, section: SectionPage) -> FeedSource:
    name = paper_name(site)
    return FeedSource(
        kind="section",
        key=listing_key(section.pk),
        site=site,
        stories=StoryPage.objects.for_readers(site).in_section(section),
        title=f"{name}: {section.title}",
        description=f"The latest stories in {section.title}, from {name}.",
        link=section.get_full_url(),
        route="section_feed",
        route_kwargs={"section": section_path(section)},
    )


def blog_feed(site: Site, blog: BlogIndexPage) -> FeedSource:
    name = paper_name(site)
    return FeedSource(
        kind="blog",
        key=listing_key(blog.pk),
        site=site,
        stories=StoryPage.objects.for_readers(site).child_of(blog),
        title=f"{name}: {blog.title}",
        description=f"The latest posts on {blog.title}, from {name}.",
        link=blog.get_full_url(),
        route="blog_feed",
        route_kwargs={"slug": blog.slug},
    )


def tag_feed(site: Site, tag: Tag) -> FeedSource:
    name = paper_name(site)
    return FeedSource(
        kind="tag",
        key=tag_key(tag.pk),
        site=site,
        stories=StoryPage.objects.for_readers(site).tagged(tag),
        title=f"{name}: {tag.name}",
        description=f"The latest stories about {tag.name}, from {name}.",
        link=absolute_url(reverse("news:tag", args=[tag.slug]), site),
        route="tag_feed",
        route_kwargs={"slug": tag.slug},
    )


def author_feed(site: Site, author: Author) -> FeedSource:
    name = paper_name(site)
    return FeedSource(
        kind="author",
        key=author_key(author.pk),
        site=site,
        stories=StoryPage.objects.for_readers(site).by_author(author),
        title=f"{name}: {author.name}",
        description=f"The latest stories by {author.name}, from {name}.",
        link=absolute_url(author.get_absolute_url(), site),
        route="author_feed",
        route_kwargs={"slug": author.slug},
    )


def agency_feed(site: Site, agency: Agency) -> FeedSource:
    name = paper_name(site)
    return FeedSource(
        kind="agency",
        key=agency_key(agency.pk),
        site=site,
        stories=StoryPage.objects.for_readers(site).filter(agency=agency),
        title=f"{name}: {agency.name}",
        description=f"The latest stories from {agency.name} ({agency.byline_name}), in {name}.",
        link=absolute_url(agency.get_absolute_url(), site),
        route="agency_feed",
        route_kwargs={"slug": agency.slug},
    )


def corrections_feed(site: Site) -> FeedSource:
    """Every correction the paper has made, newest first (the corrections page's list).

    Its `stories` are the stories that carry a correction: a correction is added by
    publishing its story, so their count and newest publication version the feed."""
    name = paper_name(site)
    return FeedSource(
        kind="corrections",
        key=CORRECTIONS,
        site=site,
        stories=StoryPage.objects.for_readers(site).filter(
            pk__in=Correction.objects.values("story")
        ),
        title=f"{name}: Corrections",
        description=f"Every correction {name} has made to a story, newest first.",
        link=absolute_url(reverse("news:corrections"), site),
        route="corrections_feed",
        itemize=correction_items,
    )


def find_source(site: Site, kind: str, **lookup) -> FeedSource:
    """The feed a request's address names, in one query at most; Http404 for a section,
    blog, tag, author or agency that readers of `site` cannot reach."""
    if kind == "front":
        return front_feed(site)
    if kind == "section":
        # The address spells the section's URL under the site's front page.
        url_path = f"{site.root_page.url_path}{lookup['section']}/"
        found = get_object_or_404(SectionPage.objects.for_readers(site), url_path=url_path)
        return section_feed(site, found)
    if kind == "blog":
        url_path = f"{site.root_page.url_path}{lookup['slug']}/"
        found = get_object_or_404(BlogIndexPage.objects.for_readers(site), url_path=url_path)
        return blog_feed(site, found)
    if kind == "tag":
        return tag_feed(site, get_object_or_404(Tag, slug=lookup["slug"]))
    if kind == "author":
        return author_feed(site, get_object_or_404(Author, slug=lookup["slug"]))
    if kind == "agency":
        return agency_feed(site, get_object_or_404(Agency, slug=lookup["slug"]))
    if kind == "corrections":
        return corrections_feed(site)
    raise Http404("There is no such feed.")


def sources_listing(story: StoryPage, site: Site) -> list[FeedSource]:
    """Every feed that lists `story`: the front page, its section and each section above
    it, its blog, its tags, its authors and its agency.

    What WebSub tells the hub about when the story changes. Sections and blogs are those
    readers may reach: a section behind a password has no feed to tell about.
    """
    sources = [front_feed(site)]
    sources += [
        section_feed(site, section)
        for section in SectionPage.objects.for_readers(site).ancestor_of(story).order_by("depth")
    ]
    sources += [
        blog_feed(site, blog) for blog in BlogIndexPage.objects.for_readers(site).parent_of(story)
    ]
    sources += [tag_feed(site, tag) for tag in story.tags.all()]
    authors, agency = story.byline_names()
    sources += [author_feed(site, author) for author in authors]
    if agency is not None:
        sources.append(agency_feed(site, agency))
    if story.corrections.exists():
        sources.append(corrections_feed(site))
    return sources


# What a feed item carries ------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    title: str
    link: str
    guid: str
    published: datetime
    updated: datetime
    authors: list[str]
    summary: str
    content_html: str
    categories: list[str]
    photo: FeedPhoto | None
    language: str


# The full text as feed readers may show it: the tags a story body is made of (the
# blocks' templates, rich text, the dateline), every link and picture made absolute, since
# a reader shows the copy away from the site. Scripts, styles, forms and embeds' iframes
# go; readers would drop them anyway.
_FEED_HTML_TAGS = {
    "p", "a", "b", "strong", "i", "em", "br", "ul", "ol", "li", "h2", "h3", "h4",
    "blockquote", "footer", "figure", "figcaption", "img", "aside", "span", "bdi",
}  # fmt: skip


def clean_feed_html(html: str, *, base: str) -> str:
    """`html` with only the tags above, and relative links resolved against `base`."""
    return nh3.clean(
        html,
        tags=_FEED_HTML_TAGS,
        clean_content_tags={"script", "style"},
        attributes={
            "a": {"href"},
            "img": {"src", "alt", "width", "height"},
            "*": {"lang", "dir"},
        },
        url_schemes={"http", "https", "mailto"},
        url_relative=("rewrite_with_base", base),
        link_rel=None,
    )


def lead_photos(stories: list[StoryPage], site: Site) -> dict[int, FeedPhoto]:
    """{story pk: FeedPhoto} for the stories that have a lead photo.

    The rendition comes from the renditions `for_listing()` prefetched (made once, on
    the first feed that needs it). Its size is read from the file once and then kept in
    the cache, keyed by the rendition's file name (a new rendition gets a new name): on
    S3-like storage reading a size is a request. A photo whose file cannot be read is
    left out rather than failing the feed.
    """
    renditions = {}
    for story in stories:
        if story.lead_photo is None:
            continue
        try:
            renditions[story.pk] = story.lead_photo.get_rendition(LEAD_PHOTO_RENDITION)
        except (SourceImageIOError, OSError):
            logger.warning(
                "Lead photo %s of story %s cannot be read", story.lead_photo_id, story.pk
            )

    keys = {pk: f"feed-rendition-size:{r.file.name}" for pk, r in renditions.items()}
    sizes = cache.get_many(list(keys.values()))
    read = {}
    for pk, rendition in renditions.items():
        if keys[pk] not in sizes:
            try:
                read[keys[pk]] = rendition.file.size
            except OSError:
                logger.warning("Rendition file %s cannot be read", rendition.file.name)
    if read:
        cache.set_many(read, timeout=24 * 3600)
    sizes.update(read)

    photos = {}
    for story in stories:
        rendition = renditions.get(story.pk)
        if rendition is None or keys[story.pk] not in sizes:
            continue
        photos[story.pk] = FeedPhoto(
            url=absolute_url(rendition.url, site),
            length=sizes[keys[story.pk]],
            mime_type=mimetypes.guess_type(rendition.file.name)[0] or "image/jpeg",
            width=rendition.width,
            height=rendition.height,
            caption=story.lead_photo_caption or story.lead_photo.description,
            credit=story.lead_photo.credit,
        )
    return photos


def feed_items(source: FeedSource, *, request: HttpRequest | None = None) -> list[FeedItem]:
    """The newest BROADSHEET_FEED_LENGTH stories of `source`, ready to write.

    A fixed number of queries however many stories (the listing's prefetches, plus the
    tags); a body's rich-text links and photo blocks add theirs, as on the page.
    The GUID is the page's translation key, which stays the same when the story is
    renamed, moved to another section or republished, so readers never see it twice.
    """
    stories = list(
        source.stories.latest_first()
        .for_listing()
        .prefetch_related(
            Prefetch("tagged_items", queryset=StoryTag.objects.select_related("tag"))
        )[: settings.BROADSHEET_FEED_LENGTH]
    )
    shows(*(story_key(story.pk) for story in stories))
    site = source.site
    photos = lead_photos(stories, site)
    base = root_url(site) + "/"
    full_text = settings.BROADSHEET_FEED_FULL_TEXT
    items = []
    for story in stories:
        authors, agency = story.byline_names()
        names = [author.name for author in authors] + ([agency.byline_name] if agency else [])
        content = ""
        if full_text:
            content = clean_feed_html(str(story_body(Context(), story)), base=base)
        items.append(
            FeedItem(
                title=story.title,
                link=story.get_full_url(request),
                guid=f"urn:uuid:{story.translation_key}",
                published=story.first_published_at,
                updated=story.last_updated_at or story.first_published_at,
                authors=names,
                summary=story.standfirst,
                content_html=content,
                categories=[tagged.tag.name for tagged in story.tagged_items.all()],
                photo=photos.get(story.pk),
                language=story.foreign_language,
            )
        )
    return items


def correction_items(source: FeedSource, *, request: HttpRequest | None = None) -> list[FeedItem]:
    """The newest BROADSHEET_FEED_LENGTH corrections, each an item linking to the
    corrections at the end of its story; one query. A correction is dated by its day (in
    the newsroom's time zone), so it is stamped with that day's first moment."""
    zone = timezone.get_current_timezone()
    items = []
    for correction in corrections_for_readers(source.site)[: settings.BROADSHEET_FEED_LENGTH]:
        story = correction.story
        made = datetime.combine(correction.date, time.min, tzinfo=zone)
        items.append(
            FeedItem(
                title=f"Correction: {story.title}",
                link=story.get_full_url(request) + "#corrections-title",
                # The story's own GUID with the correction's number: stable, and unique.
                guid=f"urn:uuid:{story.translation_key}#correction-{correction.pk}",
                published=made,
                updated=made,
                authors=[],
                summary=correction.note,
                content_html="",
                categories=[],
                photo=None,
                language="",
            )
        )
    return items


# Serving a feed -----------------------------------------------------------------------


class StoryFeed(Feed):
    """Django's Feed, fed by one FeedSource and written in one format."""

    item_guid_is_permalink = False

    def __init__(self, *, source: FeedSource, filename: str):
        self.source = source
        self.filename = filename
        self.feed_type = GENERATORS[filename]
        self.language = settings.BROADSHEET_LANGUAGE
        self.request = None

    def __call__(self, request, *args, **kwargs):
        self.request = request
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request, *args, **kwargs):
        return self.source

    def title(self, source):
        return source.title

    def link(self, source):
        return source.link

    def description(self, source):
        return source.description

    def feed_url(self, source):
        return source.url(self.filename)

    def feed_guid(self, source):
        return source.url(self.filename)

    def author_name(self, source):
        # Atom wants an author for the feed when an entry has none (a story with no
        # byline): the paper itself.
        return paper_name(source.site)

    def feed_extra_kwargs(self, source):
        return {"hub": settings.BROADSHEET_WEBSUB_HUB or None}

    def items(self, source):
        return (source.itemize or feed_items)(source, request=self.request)

    def item_title(self, item):
        # Plain text, escaped once by the XML writer: readers show it as text, so a
        # headline with "<" in it is shown, never run.
        return item.title

    def item_link(self, item):
        return item.link

    def item_description(self, item):
        return escape(item.summary)

    def item_guid(self, item):
        return item.guid

    def item_pubdate(self, item):
        return item.published

    def item_updateddate(self, item):
        return item.updated

    def item_categories(self, item):
        return item.categories

    def item_enclosures(self, item):
        photo = item.photo
        return [Enclosure(photo.url, str(photo.length), photo.mime_type)] if photo else []

    def item_extra_kwargs(self, item):
        return {
            "authors": item.authors,
            "content_html": item.content_html,
            "summary_text": item.summary,
            "photo": item.photo,
            "item_language": item.language,
        }


def feed_version(source: FeedSource, filename: str) -> tuple[str, int | None]:
    """(ETag, Last-Modified timestamp) of a feed, in one small query, before rendering.

    The feed shows its newest BROADSHEET_FEED_LENGTH items, so their ids and the times
    their stories were last published say whether it changed: a story published,
    updated or withdrawn moves them. (Counting everything the feed could list instead
    read the whole archive: 190 ms at 100,000 stories.) The settings and names that
    shape the output are hashed in with them.
    """
    length = settings.BROADSHEET_FEED_LENGTH
    if source.kind == "corrections":
        rows = corrections_for_readers(source.site).values_list("pk", "story__last_published_at")
    else:
        rows = source.stories.latest_first().values_list("pk", "last_published_at")
    shown = list(rows[:length])
    site = source.site
    parts = (
        FEED_OUTPUT_VERSION,
        filename,
        source.route,
        sorted(source.route_kwargs.items()),
        source.title,
        source.link,
        site.pk,
        site.root_url,
        [(pk, published.isoformat() if published else None) for pk, published in shown],
        settings.BROADSHEET_FEED_FULL_TEXT,
        length,
        settings.BROADSHEET_WEBSUB_HUB,
        settings.BROADSHEET_LANGUAGE,
    )
    etag = quote_etag(hashlib.sha256(repr(parts).encode()).hexdigest()[:32])
    newest = max((published for _, published in shown if published), default=None)
    return etag, timegm(newest.utctimetuple()) if newest else None


@require_safe
def serve_feed(request: HttpRequest, *, kind: str, filename: str, **lookup) -> HttpResponse:
    """One feed, or 304 Not Modified when the reader's ETag or date is still current.

    What `django.views.decorators.http.condition` does, written out so the feed's source
    is looked up once for both the check and the rendering.
    """
    site = Site.find_for_request(request)
    if site is None:
        raise Http404("This address serves no site.")
    source = find_source(site, kind, **lookup)
    etag, last_modified = feed_version(source, filename)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = StoryFeed(source=source, filename=filename)(request)
    response.headers["ETag"] = etag
    if last_modified is not None:
        response.headers["Last-Modified"] = http_date(last_modified)
    else:
        del response["Last-Modified"]
    patch_cache_control(response, max_age=FEED_MAX_AGE)
    share_for(settings.BROADSHEET_SHARE_SECONDS["feed"])
    shows(source.key)
    return response


# The filename, then the owner's part of the address: a section's path is its slugs.
_FILENAME = r"(?P<filename>rss\.xml|atom\.xml|feed\.json)"
_SLUG = r"(?P<slug>[-\w]+)"

urlpatterns = [
    re_path(rf"^feeds/{_FILENAME}$", serve_feed, {"kind": "front"}, name="feed"),
    re_path(
        rf"^feeds/sections/(?P<section>[-\w]+(?:/[-\w]+)*)/{_FILENAME}$",
        serve_feed,
        {"kind": "section"},
        name="section_feed",
    ),
    re_path(rf"^feeds/tags/{_SLUG}/{_FILENAME}$", serve_feed, {"kind": "tag"}, name="tag_feed"),
    re_path(
        rf"^feeds/authors/{_SLUG}/{_FILENAME}$",
        serve_feed,
        {"kind": "author"},
        name="author_feed",
    ),
    re_path(
        rf"^feeds/agencies/{_SLUG}/{_FILENAME}$",
        serve_feed,
        {"kind": "agency"},
        name="agency_feed",
    ),
    re_path(rf"^feeds/blogs/{_SLUG}/{_FILENAME}$", serve_feed, {"kind": "blog"}, name="blog_feed"),
    re_path(
        rf"^feeds/corrections/{_FILENAME}$",
        serve_feed,
        {"kind": "corrections"},
        name="corrections_feed",
    ),
]


def feed_urls_listing(story: StoryPage) -> list[str]:
    """The absolute address, in every format, of every feed that lists `story`."""
    site = story.get_site()
    if site is None:
        return []
    urls = []
    for source in sources_listing(story, site):
        try:
            urls += source.urls()
        except NoReverseMatch:  # a slug no feed address can spell (set in code)
            logger.warning("No feed address for %s %s", source.kind, source.route_kwargs)
    return list(dict.fromkeys(urls))
