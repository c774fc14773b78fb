"""The readers' search: what a query finds on this site, and how each find is shown.

Stories are found with Wagtail's search on its database backend (SQLite FTS5 on the
embedded default, PostgreSQL full-text search in production), always inside what the
site's readers may see (`for_readers`): drafts, embargoed, expired, restricted and
other sites' stories are never candidates, so wire copy that was never published is not
searchable. Authors are found with Wagtail's search too; tags by their names (see
`find_tags`). Snippets and highlighting are made here, in Python: the database backend
returns matching rows and a score, never the matched words in context.
"""

import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from taggit.models import Tag
from wagtail.models import Site
from wagtail.search.backends import get_search_backend

from broadsheet.news.models import (
    ArticlePage,
    Author,
    BlogPostPage,
    SectionPage,
    StoryPage,
)

# What reaches the search backend is capped: a query is a few words, and each word is
# one more term for the database to match and rank, so a pasted page of text must not
# cost a page of terms. The page says when it cut a query short.
MAX_QUERY_LENGTH = 200
MAX_WORDS = 10
SNIPPET_LENGTH = 220
AUTHOR_COUNT = 4
TAG_COUNT = 8
LATEST_COUNT = 5

KINDS = {"article": ArticlePage, "blog": BlogPostPage}


@dataclass(frozen=True)
class SearchTerms:
    """A reader's query as typed (trimmed, capped) and the words that are searched."""

    typed: str = ""
    words: tuple[str, ...] = ()
    shortened: bool = False
    words_dropped: bool = False

    @property
    def query(self) -> str:
        return " ".join(self.words)

    def __bool__(self) -> bool:
        return bool(self.words)


def _is_word_character(character: str) -> bool:
    # Letters, digits and combining marks (accents, Arabic harakat, Devanagari vowel
    # signs): Python's \w leaves the marks out and would cut such words in two.
    return unicodedata.category(character)[0] in "LNM"


def _has_letter_or_digit(word: str) -> bool:
    return any(unicodedata.category(character)[0] in "LN" for character in word)


def search_terms(text: str) -> SearchTerms:
    """The words of `text` that are searched, and what the page says about the rest.

    Only words (runs of letters, digits and their marks) reach the backend, joined by
    spaces. Both backends are given plain words, never query syntax: SQLite's FTS5 has
    operators of its own (`NEAR(`, `*`, `^`, `col:term`, `"`, `AND`/`OR`/`NOT`) and
    Wagtail's SQLite backend quotes each term without escaping a `"` inside it, so a
    stray quote would be an FTS5 syntax error (a 500); PostgreSQL refuses NUL bytes in
    any string. Reduced to words, a hostile query is an ordinary one: `' OR 1=1 --`
    searches for "OR" and "1". Punctuation and emoji are not indexed by either backend,
    so nothing findable is lost. Repeated words are searched once.
    """
    typed = " ".join(text.split())
    shortened = len(typed) > MAX_QUERY_LENGTH
    if shortened:
        cut = typed[:MAX_QUERY_LENGTH]
        # End on a whole word where there is a space to end on.
        typed = cut.rsplit(" ", 1)[0] if " " in cut else cut
    words, current = [], []
    for character in typed + " ":
        if _is_word_character(character):
            current.append(character)
        elif current:
            words.append("".join(current))
            current = []
    seen, kept = set(), []
    for word in words:
        if _has_letter_or_digit(word) and word.casefold() not in seen:
            seen.add(word.casefold())
            kept.append(word)
    return SearchTerms(
        typed=typed,
        words=tuple(kept[:MAX_WORDS]),
        shortened=shortened,
        words_dropped=len(kept) > MAX_WORDS,
    )


@dataclass(frozen=True)
class Filters:
    """What narrows a search: a top-level section (with its subsections), a kind of
    story ("article", "blog" or "" for both), first-published dates (inclusive, in the
    newsroom's time zone), and the order ("relevance" or "newest")."""

    section: SectionPage | None = None
    kind: str = ""
    published_from: date | None = None
    published_to: date | None = None
    sort: str = "relevance"

    @property
    def narrowed(self) -> bool:
        return bool(self.section or self.kind or self.published_from or self.published_to)


def top_sections(site: Site | None) -> list[SectionPage]:
    """The site's top-level sections, as the section filter offers them."""
    if site is None:
        return []
    return list(SectionPage.objects.for_readers(site).child_of(site.root_page))


def readable_stories(site: Site | None, filters: Filters):
    """The stories of `site` its readers may see, narrowed by `filters`."""
    stories = StoryPage.objects.for_readers(site, for_search=True)
    if filters.kind in KINDS:
        # Narrowed by content type, not by searching the ArticlePage or BlogPostPage
        # model: Wagtail then matches one content type in the index, and SQLite reads
        # every index entry of that type to test the match on each (7 s for page 2 of
        # a common word at 100,000 stories, against 70 ms this way).
        stories = stories.type(KINDS[filters.kind])
    if filters.section is not None:
        stories = stories.in_section(filters.section)
    zone = timezone.get_current_timezone()
    if filters.published_from:
        start = datetime.combine(filters.published_from, time.min, tzinfo=zone)
        stories = stories.filter(first_published_at__gte=start)
    if filters.published_to and filters.published_to < date.max:
        end = datetime.combine(filters.published_to + timedelta(days=1), time.min, tzinfo=zone)
        stories = stories.filter(first_published_at__lt=end)
    return stories


def find_stories(terms: SearchTerms, stories, *, sort: str = "relevance"):
    """Wagtail search results for `terms` among `stories`, best or newest first.

    Every word must appear (the "and" operator), as in a newspaper's archive search:
    more words, fewer and closer results. `stories` is what readers may see in the
    spelling Wagtail's search accepts (`for_readers(for_search=True)`: only lookups on
    indexed FilterFields), so the database backend applies the rule and the reader's
    filters to the matched stories alone, in its one query.
    """
    within = stories.for_listing()
    order = ["-first_published_at", "-id"] if sort == "newest" else relevance_order(terms)
    return within.order_by(*order).search(terms.query, operator="and", order_by_relevance=False)


def relevance_order(terms: SearchTerms) -> list:
    """Best first: stories with more of the words in their headline, then in their
    standfirst, then the newest.

    Where the words stand says more about a news story than how often its body repeats
    them, and among equals a reader wants the latest. The backends' own scores are not
    used: Wagtail's SQLite backend computes each result's score with a correlated FTS
    query per matching story (16 seconds for a common word on 100,000 stories), and
    bm25 and PostgreSQL's ts_rank would order the two databases differently anyway.
    """

    def matches(field: str):
        found = [
            Case(When(**{f"{field}__icontains": word}, then=Value(1)), default=Value(0))
            for word in terms.words
        ]
        return sum(found[1:], found[0])

    return [
        matches("title").desc(),
        matches("standfirst").desc(),
        F("first_published_at").desc(),
        F("id").desc(),
    ]


def find_authors(terms: SearchTerms, site: Site | None, *, limit: int = AUTHOR_COUNT):
    """Authors whose names match any of the words and who have stories on `site`, best
    match first, each with `story_count`: the stories its readers may read by them."""
    # Author's manager is Django's own, without `.search()`: ask the backend directly.
    backend = get_search_backend()
    matched = [author.pk for author in backend.search(terms.query, Author, operator="or")[:20]]
    if not matched:
        return []
    readable = StoryPage.objects.for_readers(site)
    found = {
        author.pk: author
        for author in Author.objects.filter(pk__in=matched)
        .annotate(story_count=Count("bylines", filter=Q(bylines__story__in=readable)))
        .filter(story_count__gt=0)
    }
    return [found[pk] for pk in matched if pk in found][:limit]


def find_tags(terms: SearchTerms, site: Site | None, *, limit: int = TAG_COUNT):
    """Tags on `site`'s readable stories with a word of their name starting with one of
    the words, exact names first, then the most used; each with `story_count`.

    Tags are taggit's model, not ours, and not indexed by Wagtail; a tag is a short
    label, so a word-prefix match on its name in the database is exact and costs one
    query, where indexing a third-party model would mean keeping an index of it.
    One-letter words are left out here: they would match every tag starting with it.
    """
    words = [word for word in terms.words if len(word) > 1]
    if not words:
        return []
    named = Q()
    exact = Q(name__iexact=terms.query)
    for word in words:
        named |= Q(name__istartswith=word) | Q(name__icontains=f" {word}")
        named |= Q(name__icontains=f"-{word}")
        exact |= Q(name__iexact=word)
    named_ids = list(Tag.objects.filter(named).values_list("pk", flat=True)[:200])
    if not named_ids:
        # Most searches name no tag; counting readable stories is the dear part (it
        # reads the readable archive), so it runs only for tags that match.
        return []
    readable = StoryPage.objects.for_readers(site)
    on_readable = Q(news_storytag_items__content_object__in=readable)
    return list(
        Tag.objects.filter(pk__in=named_ids)
        .annotate(
            story_count=Count("news_storytag_items", filter=on_readable),
            inexact=Case(When(exact, then=Value(0)), default=Value(1), output_field=IntegerField()),
        )
        .filter(story_count__gt=0)
        .order_by("inexact", "-story_count", "name")[:limit]
    )


def latest_stories(site: Site | None, *, limit: int = LATEST_COUNT) -> list[StoryPage]:
    """The newest stories readers may see, for a search that found nothing."""
    return list(StoryPage.objects.for_readers(site).latest_first().for_listing()[:limit])


# Highlighting ----------------------------------------------------------------------


def _fold(text: str) -> tuple[str, list[int]]:
    """`text` compared as the backends compare it (case and accents ignored), and for
    each character of the result the position in `text` it came from."""
    folded, origin = [], []
    for position, character in enumerate(text):
        for part in unicodedata.normalize("NFKD", character).casefold():
            if not unicodedata.combining(part):
                folded.append(part)
                origin.append(position)
    return "".join(folded), origin


def _matches(text: str, words) -> list[tuple[int, int]]:
    """Where in `text` the words are, as (start, end) spans, in order.

    A word matches at the start of a word of the text and runs to that word's end, so
    "harbour" marks "Harbour", "harbours" and the "harbour" of "harbour's": PostgreSQL's
    stemming finds those too, and SQLite ignores case and accents as the folding does.
    """
    folded_words = sorted({_fold(word)[0] for word in words} - {""}, key=len, reverse=True)
    if not folded_words or not text:
        return []
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, folded_words)) + r")\w*")
    folded, origin = _fold(text)
    spans = []
    for match in pattern.finditer(folded):
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        while end < len(text) and unicodedata.combining(text[end]):
            end += 1  # the accent on a match's last letter belongs to it
        spans.append((start, end))
    return spans


def highlight(text: str, words) -> SafeString:
    """`text` as HTML with each searched word wrapped in <mark>.

    Built safely: the text is split at the matches first and every piece is escaped on
    its own, so a story's "<script>" is shown as text, and a <mark> can never land
    inside an escaped entity (marking "amp" in an already escaped "&amp;" would).
    """
    pieces, last = [], 0
    for start, end in _matches(text, words):
        pieces += [escape(text[last:start]), "<mark>", escape(text[start:end]), "</mark>"]
        last = end
    pieces.append(escape(text[last:]))
    return mark_safe("".join(pieces))


SENTENCE_END = re.compile(r"[.!?][”’\"')]*\s+")


def excerpt(text: str, words, *, length: int = SNIPPET_LENGTH) -> SafeString:
    """About `length` characters of `text` around its first match, highlighted: from
    the start of the match's sentence when that is near, else from a space a little
    before it, cut at a space, with "…" where text was left out. The opening of
    `text` when nothing matches."""
    spans = _matches(text, words)
    first = spans[0][0] if spans else 0
    start = 0
    if first > length // 3:
        window = max(0, first - length // 2)
        sentences = list(SENTENCE_END.finditer(text, window, first))
        if sentences:
            start = sentences[-1].end()
        else:
            space = text.find(" ", first - length // 3, first)
            start = space + 1 if space != -1 else first - length // 3
    end = start + length
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    else:
        end = len(text)
    opening = "…" if start else ""
    closing = "…" if end < len(text) else ""
    body = highlight(text[start:end].strip(), words)
    return mark_safe(opening + body + closing)


TAG = re.compile(r"<[^>]*>")


def _plain(rich_text: str) -> str:
    return html.unescape(TAG.sub(" ", rich_text))


def story_text(story: StoryPage) -> str:
    """The words of a story's body as plain text, read from its stored blocks.

    Read from the raw JSON, not the StreamField's values: those load each body's photos
    from the database, one query per result. Embeds and photos have no words of their
    own; a photo's caption does.
    """
    parts = []
    for block in story.body.raw_data:
        kind, value = block.get("type"), block.get("value")
        if kind == "paragraph" and isinstance(value, str):
            parts.append(_plain(value))
        elif kind == "crosshead" and isinstance(value, str):
            parts.append(value)
        elif kind == "quote" and isinstance(value, dict):
            parts += [value.get("quotation") or "", value.get("attribution") or ""]
        elif kind == "photo" and isinstance(value, dict):
            parts.append(value.get("caption") or "")
        elif kind == "fact_box" and isinstance(value, dict):
            parts += [value.get("title") or "", _plain(value.get("body") or "")]
    return " ".join(" ".join(parts).split())


@dataclass
class Hit:
    """One story found, as the results list shows it."""

    story: StoryPage
    headline: SafeString
    snippet: SafeString
    kind: str  # "Article" or "Blog post"


def snippet(story: StoryPage, words) -> SafeString:
    """The standfirst when it holds a searched word, else the body around the first
    one, else the standfirst: what tells a reader why this story was found."""
    if _matches(story.standfirst, words):
        return excerpt(story.standfirst, words)
    body = story_text(story)
    if _matches(body, words):
        return excerpt(body, words)
    return excerpt(story.standfirst, words)


def hits(stories, terms: SearchTerms) -> list[Hit]:
    blog_type = ContentType.objects.get_for_model(BlogPostPage).pk
    return [
        Hit(
            story=story,
            headline=highlight(story.title, terms.words),
            snippet=snippet(story, terms.words),
            kind="Blog post" if story.content_type_id == blog_type else "Article",
        )
        for story in stories
    ]


# The whole search ------------------------------------------------------------------


@dataclass
class SearchOutcome:
    """Everything the search page shows for one query."""

    terms: SearchTerms
    filters: Filters
    page: Page | None = None
    hits: list[Hit] = field(default_factory=list)
    authors: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    latest: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.page.paginator.count if self.page else 0


def search(
    *, site: Site | None, text: str, filters: Filters, page_number: int | None = None
) -> SearchOutcome:
    """Search `site` for `text`: one page of stories, and on the first page the authors
    and tags that match; the latest stories when nothing matched.

    A page number past the last shows the last page, with a note: a reader who edits the
    address, or follows an old link after stories were withdrawn, still gets results.
    """
    terms = search_terms(text)
    outcome = SearchOutcome(terms=terms, filters=filters)
    if terms.shortened:
        outcome.notes.append(
            f"Your search was shortened to its first {MAX_QUERY_LENGTH} characters."
        )
    if terms.words_dropped:
        outcome.notes.append(f"Only the first {MAX_WORDS} different words were searched.")
    if not terms:
        outcome.latest = latest_stories(site)
        return outcome

    results = find_stories(terms, readable_stories(site, filters), sort=filters.sort)
    paginator = Paginator(results, settings.BROADSHEET_LISTING_PAGE_SIZE)
    number = page_number or 1
    if number > paginator.num_pages:
        if paginator.count:
            outcome.notes.append(
                f"There is no page {number} of these results: this is the last page."
            )
        number = paginator.num_pages
    outcome.page = paginator.page(number)
    outcome.hits = hits(outcome.page.object_list, terms)
    if number == 1:
        outcome.authors = find_authors(terms, site)
        outcome.tags = find_tags(terms, site)
    if not outcome.hits:
        outcome.latest = latest_stories(site)
    return outcome
