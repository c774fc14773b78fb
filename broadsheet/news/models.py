"""The newsroom's content: sections, stories (articles and blog posts), authors, agencies.

Articles and blog posts share one table, StoryPage, so that every listing that mixes them
(an author's page, a tag, the date archive) is a single query with its photos and bylines
prefetched, instead of one query per kind of story.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Length, RowNumber, Substr
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    TitleFieldPanel,
)
from wagtail.fields import StreamField
from wagtail.images.models import AbstractImage, AbstractRendition, Image
from wagtail.models import Orderable, Page, PageManager, PageViewRestriction, Site
from wagtail.query import PageQuerySet
from wagtail.search import index

from .blocks import StoryBodyBlock
from .cache_keys import author_key, listing_key, shared_as, story_key
from .forms import StoryPageForm


class Photo(AbstractImage):
    """A Wagtail image with the credit a newspaper prints after every caption."""

    credit = models.CharField(
        max_length=255,
        blank=True,
        help_text="Who took or supplied the photo, printed after the caption: 'AFP photo'.",
    )

    admin_form_fields = (*Image.admin_form_fields, "credit")

    class Meta(AbstractImage.Meta):
        # Wagtail's image chooser checks this permission by this codename.
        permissions = [("choose_image", "Can choose image")]


class PhotoRendition(AbstractRendition):
    image = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)


class Author(index.Indexed, models.Model):
    """A member of staff, or a regular contributor, who writes under their own name."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    role = models.CharField(max_length=200, blank=True, help_text="e.g. 'Health correspondent'")
    bio = models.TextField(blank=True)
    photo = models.ForeignKey(
        Photo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("role"),
        FieldPanel("bio"),
        FieldPanel("photo"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("news:author", args=[self.slug])


class Agency(index.Indexed, models.Model):
    """A wire agency whose copy the paper republishes under the agency's byline."""

    name = models.CharField(max_length=200, help_text="e.g. 'Agence France-Presse'")
    byline_name = models.CharField(max_length=60, help_text="As printed in bylines, e.g. 'AFP'")
    slug = models.SlugField(max_length=200, unique=True)
    website = models.URLField(blank=True)
    about = models.TextField(blank=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("byline_name"),
        FieldPanel("slug"),
        FieldPanel("website"),
        FieldPanel("about"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self):
        # What the admin shows (choosers, lists); bylines print `byline_name` alone.
        return f"{self.name} ({self.byline_name})"

    def get_absolute_url(self):
        return reverse("news:agency", args=[self.slug])


# The one place that knows which way a language is written; templates and CSS only see
# the resulting dir="rtl". A script subtag, when the tag has one, decides ("pa-arab" is
# Punjabi in Shahmukhi, right to left; "sd-deva" is Sindhi in Devanagari, left to right);
# otherwise the primary language subtag does, by the script that language is usually
# written in.
RIGHT_TO_LEFT_SCRIPTS = {
    "arab",  # Arabic, and Persian, Urdu, Pashto... when they say so
    "hebr",  # Hebrew, Yiddish, Ladino
    "syrc",  # Syriac
    "thaa",  # Thaana (Dhivehi)
    "nkoo",  # N'Ko
    "adlm",  # Adlam (Fulani)
    "rohg",  # Hanifi Rohingya
    "samr",  # Samaritan
    "mand",  # Mandaic
}
RIGHT_TO_LEFT = {
    "ar",  # Arabic
    "he",  # Hebrew
    "fa",  # Persian
    "ur",  # Urdu
    "ps",  # Pashto
    "yi",  # Yiddish
    "dv",  # Dhivehi
    "ug",  # Uyghur
    "ckb",  # Central (Sorani) Kurdish; "ku" alone is Kurmanji, mostly in Latin letters
    "sd",  # Sindhi (in Pakistan, where most of its press is)
    "syr",  # Syriac
    "nqo",  # N'Ko
    "arc",  # Aramaic
    "bal",  # Balochi
    "mzn",  # Mazanderani
    "glk",  # Gilaki
    "lrc",  # Northern Luri
    "azb",  # South Azerbaijani (Iran), written in Arabic letters
}
# The shape of a BCP 47 tag, lower case: a 2 or 3 letter language ("ar", "ckb"), then
# subtags of 1 to 8 letters or digits ("ar-eg", "zh-hant-tw", "es-419"). Tags that only
# look like words ("arabic") are refused; whether a subtag is registered is not checked.
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")


def text_direction(language: str) -> str:
    """ "rtl" when `language` (a BCP 47 tag, any case) is written right to left, else "ltr".

    Browsers cannot tell from lang="ar" alone which way to set text: the dir attribute
    must say so, and it is worked out here, once, for pages, cards and anything else.
    A blank or unknown tag is left to right, as the site's own language is.
    """
    primary, *subtags = language.strip().lower().replace("_", "-").split("-")
    if subtags and len(subtags[0]) == 4 and subtags[0].isalpha():
        return "rtl" if subtags[0] in RIGHT_TO_LEFT_SCRIPTS else "ltr"
    return "rtl" if primary in RIGHT_TO_LEFT else "ltr"


def validate_language_tag(value: str) -> None:
    """Refuse a language that is not shaped like a BCP 47 tag, saying what to write."""
    if value and not LANGUAGE_TAG.fullmatch(value.lower()):
        raise ValidationError(
            f"“{value}” is not a language code: use one like 'ar', 'fr' or 'pt-br' (BCP 47)."
        )


def default_site() -> Site | None:
    """The site readers reach when no request names one (emails, the worker, commands)."""
    return Site.objects.filter(is_default_site=True).select_related("root_page").first()


def restricted() -> Exists:
    """True of a page behind a view restriction, its own or one on a page above it.

    Wagtail's `PageQuerySet.public()` says the same by loading every restriction first
    and writing one condition per restricted page; as a subquery it is one query, with
    no extra round trip, however many restricted sections the site has.
    """
    return Exists(
        PageViewRestriction.objects.filter(
            page__path=Substr(OuterRef("path"), 1, Length("page__path"))
        )
    )


class ReadersQuerySet(PageQuerySet):
    """The one rule for what readers may see, shared by every page, listing and output."""

    def for_readers(self, site: Site | None = None, *, for_search: bool = False):
        """Pages a reader of `site` (the default site when None) may see.

        Live, not past their expiry (the scheduler unpublishes expired pages only when it
        next runs), not behind a view restriction (a password, a login, a group) on the
        page or any page above it, and inside the site's own tree. Everything readers are
        shown goes through here: the front page, sections, blogs, the author, tag, agency
        and date listings, feeds, sitemaps, search and the daily email.

        `for_search` spells the same rule in the plain lookups on indexed fields that
        Wagtail's search accepts (FilterFields), which cannot take the restriction
        subquery: the restricted parts of the tree are left out by their paths, read in
        one small query. (Handing search the readable stories as a subquery of ids
        instead makes the database list every readable story before it searches: 300 ms
        on an archive of 100,000, where the search itself takes a few.)
        """
        site = site or default_site()
        readable = self.live().exclude(expire_at__lte=timezone.now())
        if getattr(self.model, "few_of_a_kind", False):
            # Naming the page type lets the database start from the few pages of that
            # type (by the content type's index) instead of reading the whole page tree:
            # 2 ms instead of 130 for the sections of a 100,000-story archive on SQLite.
            # For articles, most of the tree, it is the other way round, so only page
            # types marked few_of_a_kind get it.
            readable = readable.type(self.model)
        if for_search:
            for path in PageViewRestriction.objects.values_list("page__path", flat=True):
                readable = readable.exclude(path__startswith=path)
        else:
            readable = readable.exclude(restricted())
        if site is None:
            return readable.none()
        return readable.descendant_of(site.root_page, inclusive=True)


ReadersManager = PageManager.from_queryset(ReadersQuerySet)


class StoryQuerySet(ReadersQuerySet):
    """Reads of stories, written once and shared by pages, feeds, sitemaps and the digest."""

    def in_section(self, section):
        return self.descendant_of(section)

    def latest_first(self):
        return self.order_by("-first_published_at", "-pk")

    def by_author(self, author):
        return self.filter(bylines__author=author)

    def tagged(self, tag):
        return self.filter(tagged_items__tag=tag)

    def for_listing(self):
        """Everything a story card shows, in a fixed number of queries however many cards:
        the photo and its renditions, the bylines, and `parent_title`, the name of the
        section or blog the story is in (feeds, structured data and the email print it)."""
        parent = Page.objects.filter(
            path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Page.steplen)
        )
        annotated = self.annotate(parent_title=Subquery(parent.values("title")[:1]))
        return annotated.select_related("lead_photo", "agency").prefetch_related(
            Prefetch("lead_photo__renditions", to_attr="prefetched_renditions"),
            Prefetch("bylines", queryset=Byline.objects.select_related("author")),
        )


StoryManager = PageManager.from_queryset(StoryQuerySet)


def paginate(request, queryset, *, per_page=None):
    """One page of a listing, from ?page=N.

    A page number that is not a number shows the first page (links that lost their
    number still work); a number past the end is a 404, so crawlers stop there.
    """
    paginator = Paginator(queryset, per_page or settings.BROADSHEET_LISTING_PAGE_SIZE)
    try:
        return paginator.page(request.GET.get("page", 1))
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage as exc:
        if paginator.count == 0:
            return paginator.page(1)
        raise Http404("There is no such page of stories.") from exc


class HomePage(Page):
    """The front page: lead story, top stories, a block per section, the latest blog posts."""

    few_of_a_kind = True  # see ReadersQuerySet.for_readers

    lead_story = models.ForeignKey(
        "news.ArticlePage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Leave empty to lead with the newest story.",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("lead_story"),
        InlinePanel(
            "top_stories",
            label="Top stories",
            heading="Top stories",
            help_text="Pick and order today's top stories; the newest fill any gap.",
        ),
    ]
    subpage_types = ["news.SectionPage", "news.BlogIndexPage"]
    max_count = 1

    objects = ReadersManager()

    TOP_STORY_COUNT = 6
    SECTION_STORY_COUNT = 4
    BLOG_POST_COUNT = 4

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["front"] = front_page(self, site=Site.find_for_request(request))
        shared_as("listing", listing_key(self.pk))
        return context


def story_at(site: Site, path: str) -> "StoryPage | None":
    """The story readers of `site` reach at `path` ("news/world/some-story/"), in one
    query, or None. Wagtail's routing asks one query per step of the URL and one more
    for the page's type; most pages a paper serves are stories (news/views.py `serve`).
    A story behind a view restriction is not found here, so Wagtail's way answers it
    with its password or sign-in form."""
    if path.count("/") < 2:  # a section or a blog at most
        return None
    url_path = site.root_page.url_path + path
    for model in (ArticlePage, BlogPostPage):
        story = (
            model.objects.for_readers(site)
            .filter(url_path=url_path)
            .select_related("agency", "lead_photo")
            .first()
        )
        if story is not None:
            # for_readers has ruled out view restrictions, on it and above it.
            story.view_restrictions_checked = True
            return story
    return None


class HomeTopStory(Orderable):
    home = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="top_stories")
    story = models.ForeignKey("news.ArticlePage", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("story")]


class SectionPage(Page):
    """A section of the paper; sections nest (News, World, Middle East)."""

    few_of_a_kind = True  # see ReadersQuerySet.for_readers

    intro = models.TextField(blank=True, help_text="One or two sentences shown at the top.")

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    # New sections appear in the masthead's navigation unless an editor unticks it.
    show_in_menus_default = True
    parent_page_types = ["news.HomePage", "news.SectionPage"]
    subpage_types = ["news.SectionPage", "news.ArticlePage"]

    objects = ReadersManager()

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        site = Site.find_for_request(request)
        stories = ArticlePage.objects.for_readers(site).in_section(self).latest_first()
        context["stories"] = paginate(request, stories.for_listing())
        context["subsections"] = SectionPage.objects.for_readers(site).child_of(self)
        shared_as("listing", listing_key(self.pk))
        return context


class StoryPage(Page):
    """What articles and blog posts have in common: a headline over a dated, signed body.

    `last_updated_at` is when the story last changed in substance. Every publish moves it
    unless the editor marks the update as minor (a typo, a caption), so "Last updated"
    tells readers something true.
    """

    standfirst = models.TextField(
        max_length=400, help_text="One sentence under the headline that sums up the story."
    )
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stories",
        help_text="For wire copy: the agency named in the byline.",
    )
    dateline = models.CharField(
        max_length=80,
        blank=True,
        help_text="Where the story was reported from, e.g. 'Beirut'. Printed in capitals.",
    )
    language = models.CharField(
        max_length=35,
        blank=True,
        validators=[validate_language_tag],
        help_text="For copy in another language than the site's: its code, e.g. 'ar' for "
        "Arabic or 'fr' for French. Leave blank for the site's language.",
    )
    lead_photo = models.ForeignKey(
        Photo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead_photo_caption = models.CharField(max_length=400, blank=True)
    body = StreamField(StoryBodyBlock())
    tags = ClusterTaggableManager(through="news.StoryTag", blank=True)
    comments_open = models.BooleanField(default=True)
    votes_open = models.BooleanField(default=True)
    minor_update = models.BooleanField(
        default=False,
        verbose_name="This is a minor update",
        help_text="Tick for a typo or a caption fix: 'Last updated' will not change.",
    )
    last_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = StoryManager()
    base_form_class = StoryPageForm
    is_creatable = False

    search_fields = [
        *Page.search_fields,
        index.SearchField("standfirst"),
        index.SearchField("body"),
        index.FilterField("first_published_at"),
        index.FilterField("expire_at"),  # for_readers(for_search=True) filters on it
        # Readers search for a writer's name or a topic and expect the stories (site search).
        index.RelatedFields(
            "bylines", [index.RelatedFields("author", [index.SearchField("name")])]
        ),
        index.RelatedFields("tags", [index.SearchField("name")]),
    ]

    class Meta:
        indexes = [models.Index(fields=["last_updated_at"])]

    @property
    def headline(self):
        return self.title

    @property
    def language_tag(self) -> str:
        """The language the story is written in: its own, or the site's when blank."""
        return self.language.strip().lower() or settings.LANGUAGE_CODE.lower()

    @property
    def foreign_language(self) -> str:
        """The story's language when it is not the site's ("" otherwise): what its copy
        is marked with (`lang`), so browsers, screen readers and search read it right."""
        own = self.language_tag
        return own if own != settings.LANGUAGE_CODE.lower() else ""

    @property
    def text_direction(self) -> str:
        """ "rtl" or "ltr": the way the story's copy is written (see `text_direction()`)."""
        return text_direction(self.language_tag)

    def byline_names(self) -> tuple[list[Author], Agency | None]:
        """Who the byline names, in order: the authors, then the agency."""
        return [byline.author for byline in self.bylines.all()], self.agency

    @property
    def byline_text(self) -> str:
        """The byline as plain text ("By Ruth Adeyemi and CPA"), or "" with none."""
        authors, agency = self.byline_names()
        names = [author.name for author in authors] + ([agency.byline_name] if agency else [])
        if not names:
            return ""
        return "By " + (
            names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        )

    def save(self, *args, **kwargs):
        self.language = self.language.strip().lower()
        # Bylines added in code (imports, the demo, wire ingest) have no sort_order until
        # they are numbered here; without it the database decides the order of names.
        for position, byline in enumerate(self.bylines.all()):
            if byline.sort_order is None:
                byline.sort_order = position
        return super().save(*args, **kwargs)

    def with_content_json(self, content):
        """Keep `last_updated_at` from the live row: revisions must not roll it back."""
        obj = super().with_content_json(content)
        obj.last_updated_at = self.last_updated_at
        return obj

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["breadcrumbs"] = self.get_ancestors().filter(depth__gt=1)
        shared_as("story", story_key(self.pk))
        return context

    def load_for_page(self) -> None:
        """Read everything the story's own parts show in a fixed number of queries,
        however many authors, corrections or photo sizes it has. The page template asks
        for it inside those parts, so a page whose parts are kept (news/story.html)
        pays nothing for it; asking twice reads nothing more."""
        prefetch_related_objects(
            [self],
            Prefetch("bylines", queryset=Byline.objects.select_related("author")),
            "corrections",
        )
        if self.lead_photo_id and not hasattr(self.lead_photo, "prefetched_renditions"):
            self.lead_photo.prefetched_renditions = list(self.lead_photo.renditions.all())

    def get_view_restrictions(self):
        if getattr(self, "view_restrictions_checked", False):
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()

    @cached_property
    def tag_list(self):
        return list(self.tags.all())

    def related_stories(self, limit=4, *, site=None):
        """Stories from the same section or blog, and stories sharing tags, best first."""
        tag_ids = [tag.pk for tag in self.tag_list]
        parent_path = self.path[: -self.steplen]
        same_parent = Q(path__startswith=parent_path, depth=self.depth)
        shared_tags = Q(tagged_items__tag_id__in=tag_ids)
        return list(
            StoryPage.objects.for_readers(site)
            .exclude(pk=self.pk)
            .filter(same_parent | shared_tags)
            .annotate(shared_tags=Count("tagged_items", filter=shared_tags, distinct=True))
            .order_by("-shared_tags", "-first_published_at")
            .for_listing()[:limit]
        )


class Byline(Orderable):
    story = ParentalKey(StoryPage, on_delete=models.CASCADE, related_name="bylines")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines")

    panels = [FieldPanel("author")]


class StoryTag(TaggedItemBase):
    content_object = ParentalKey(StoryPage, on_delete=models.CASCADE, related_name="tagged_items")


class Correction(Orderable):
    """A dated note telling readers what was wrong in a story and what was put right.

    A row of its own (not a block in the story) so that the paper can list every
    correction it has made, newest first, across stories (`corrections_for_readers`).
    It belongs to the story's form, so it goes through revisions and the review
    workflow like the rest of the story; the rows are the live page's.
    """

    story = ParentalKey(StoryPage, on_delete=models.CASCADE, related_name="corrections")
    # A day, not a moment: the correction is printed with its date, and schema.org's
    # CorrectionComment takes a date; the newsroom's day by default.
    date = models.DateField(default=timezone.localdate)
    note = models.TextField(help_text="What was wrong, and what is right now.")

    panels = [FieldPanel("date"), FieldPanel("note")]

    class Meta(Orderable.Meta):
        indexes = [models.Index(fields=["-date", "-id"], name="news_correction_newest")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d}: {self.note[:60]}"


def corrections_for_readers(site: Site | None = None):
    """Every correction on a story the readers of `site` may see, newest first, with its
    story: the corrections page, and the corrections feed, list these."""
    stories = StoryPage.objects.for_readers(site).values("pk")
    return (
        Correction.objects.filter(story__in=stories)
        .select_related("story")
        .order_by("-date", "-pk")
    )


# What follows the byline in every story's editing form.
STORY_BODY_PANELS = [
    MultiFieldPanel(
        [FieldPanel("lead_photo"), FieldPanel("lead_photo_caption")], heading="Lead photo"
    ),
    FieldPanel("body"),
    FieldPanel("tags"),
    InlinePanel(
        "corrections",
        label="Correction",
        heading="Corrections",
        help_text="Dated notes shown at the end of the story and on the corrections page.",
    ),
    FieldPanel("minor_update"),
]
STORY_PROMOTE_PANELS = [
    *Page.promote_panels,
    MultiFieldPanel(
        [FieldRowPanel([FieldPanel("comments_open"), FieldPanel("votes_open")])],
        heading="Readers",
    ),
]


class ArticlePage(StoryPage):
    """A news story, written by staff or taken from a wire agency."""

    content_panels = [
        # Keeps the slug in step with the headline until the story is first published.
        TitleFieldPanel("title", heading="Headline", placeholder="Headline*"),
        FieldPanel("standfirst"),
        MultiFieldPanel(
            [
                InlinePanel("bylines", label="Author"),
                FieldPanel("agency"),
                FieldPanel("dateline"),
                # Beside the dateline: both say where copy comes from, and wire copy in
                # another language arrives with both set.
                FieldPanel("language"),
            ],
            heading="Byline",
        ),
        *STORY_BODY_PANELS,
    ]
    promote_panels = STORY_PROMOTE_PANELS
    parent_page_types = ["news.SectionPage"]
    subpage_types = []
    template = "news/article_page.html"

    objects = StoryManager()

    class Meta:
        verbose_name = "article"


class BlogIndexPage(Page):
    """A blog: a named column with its own writers and its own stream of posts."""

    few_of_a_kind = True  # see ReadersQuerySet.for_readers

    intro = models.TextField(blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        InlinePanel("contributors", label="Writer", heading="Writers"),
    ]
    parent_page_types = ["news.HomePage"]
    subpage_types = ["news.BlogPostPage"]

    objects = ReadersManager()

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        site = Site.find_for_request(request)
        posts = BlogPostPage.objects.for_readers(site).child_of(self).latest_first()
        context["stories"] = paginate(request, posts.for_listing())
        context["writers"] = [c.author for c in self.contributors.select_related("author")]
        shared_as("listing", listing_key(self.pk), *(author_key(a.pk) for a in context["writers"]))
        return context


class BlogContributor(Orderable):
    blog = ParentalKey(BlogIndexPage, on_delete=models.CASCADE, related_name="contributors")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("author")]


class BlogPostPage(StoryPage):
    """A post on one of the paper's blogs."""

    few_of_a_kind = True  # see ReadersQuerySet.for_readers

    content_panels = [
        # Keeps the slug in step with the headline until the story is first published.
        TitleFieldPanel("title", heading="Headline", placeholder="Headline*"),
        FieldPanel("standfirst"),
        MultiFieldPanel(
            # Under the authors, as in an article's Byline panel (beside the dateline).
            [InlinePanel("bylines", label="Author"), FieldPanel("language")],
            heading="Byline",
        ),
        *STORY_BODY_PANELS,
    ]
    promote_panels = STORY_PROMOTE_PANELS
    parent_page_types = ["news.BlogIndexPage"]
    subpage_types = []
    template = "news/blog_post_page.html"

    objects = StoryManager()

    class Meta:
        verbose_name = "blog post"


# The front page ---------------------------------------------------------------------
# A read of several sections, kept with the models (HomePage.get_context calls it) so that
# the models never reach up into services.py.


@dataclass
class FrontPage:
    lead: ArticlePage | None = None
    top_stories: list[ArticlePage] = field(default_factory=list)
    sections: list[tuple[SectionPage, list[ArticlePage]]] = field(default_factory=list)
    blog_posts: list[BlogPostPage] = field(default_factory=list)

    def all_stories(self) -> list:
        """Every story on the front page, for per-story lookups made in one query."""
        stories = [self.lead] if self.lead else []
        stories += self.top_stories + self.blog_posts
        for _, section_stories in self.sections:
            stories += section_stories
        return stories


def front_page(home: HomePage, *, site: Site | None = None) -> FrontPage:
    """The stories of the front page: the editor's picks first, the newest fill the gaps.

    A story appears once: a story that leads or is a top story is left out of its
    section's block. The read costs the same few queries however many sections the
    paper has: the sections' blocks come from one ranked query, not one per section.
    """
    articles = (
        ArticlePage.objects.for_readers(site).descendant_of(home).latest_first().for_listing()
    )
    newest = list(articles[: 1 + HomePage.TOP_STORY_COUNT * 2])
    picked_ids = [pick.story_id for pick in home.top_stories.all()]
    if home.lead_story_id:
        picked_ids.insert(0, home.lead_story_id)
    picked = {story.pk: story for story in articles.filter(pk__in=picked_ids)}

    ordered = [picked[pk] for pk in dict.fromkeys(picked_ids) if pk in picked]
    ordered += [story for story in newest if story.pk not in picked]
    if not home.lead_story_id or home.lead_story_id not in picked:
        # No live lead chosen: the newest story leads, the editor's picks follow it.
        newest_story = newest[0] if newest else None
        if newest_story:
            ordered = [newest_story, *[s for s in ordered if s.pk != newest_story.pk]]
    front = FrontPage(
        lead=ordered[0] if ordered else None, top_stories=ordered[1 : 1 + HomePage.TOP_STORY_COUNT]
    )

    shown = {story.pk for story in [front.lead, *front.top_stories] if story}
    sections = list(SectionPage.objects.for_readers(site).child_of(home))
    by_section = newest_in_each(articles.exclude(pk__in=shown), sections)
    front.sections = [
        (section, by_section[section.path]) for section in sections if by_section[section.path]
    ]
    front.blog_posts = list(
        BlogPostPage.objects.for_readers(site)
        .descendant_of(home)
        .latest_first()
        .for_listing()[: HomePage.BLOG_POST_COUNT]
    )
    return front


def newest_in_each(stories, sections, count=HomePage.SECTION_STORY_COUNT):
    """The `count` newest of `stories` (ordered newest first) under each of `sections`,
    which do not overlap, in one query: {section path: [stories]}.

    Each section's newest are a subquery that stops at `count` (SQLite takes no LIMIT
    in the parts of a UNION, but does in an IN). Ranking every story with a window
    function instead read the whole archive: 2 seconds at 100,000 stories.
    """
    by_section = {section.path: [] for section in sections}
    if not sections:
        return by_section
    newest = Q()
    for section in sections:
        newest |= Q(pk__in=stories.in_section(section).values("pk")[:count])
    for story in stories.filter(newest):
        section_path = story.path[: len(sections[0].path)]
        by_section[section_path].append(story)
    return by_section
    parts = [
        stories.in_section(section).annotate(section_path=Value(section.path))[:count]
        for section in sections
    ]
    for story in parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]:
        by_section[story.section_path].append(story)
    return by_section
    length = len(sections[0].path)
    section_of = Substr("path", 1, length)
    ranked = (
        stories.annotate(
            section_path=section_of,
            place=Window(
                RowNumber(),
                partition_by=[section_of],
                order_by=[F("first_published_at").desc(), F("pk").desc()],
            ),
        )
        .filter(section_path__in=list(by_section), place__lte=count)
        .order_by("section_path", "place")
    )
    for story in ranked:
        by_section[story.section_path].append(story)
    return by_section
