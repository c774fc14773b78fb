"""The search: what it finds, what it never finds, and how it shows what it found."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Site

from broadsheet.news import services as news_services
from broadsheet.search import services
from broadsheet.search.services import Filters, search_terms
from tests.conftest import HIDDEN, add_section, crosshead, paragraph

from .conftest import body

LONDON = ZoneInfo("Europe/London")


def found(text, filters=None, *, site=None):
    """Titles found for `text`, in the order the search gives them."""
    outcome = services.search(site=site, text=text, filters=filters or Filters())
    return [hit.story.title for hit in outcome.hits]


# What is searched --------------------------------------------------------------------


def test_only_words_reach_the_backend():
    terms = search_terms("  \"harbour  NEAR( col:term harbour* ^x {y} -z ' OR 1=1 -- ")

    assert terms.words == ("harbour", "NEAR", "col", "term", "x", "y", "z", "OR", "1")


def test_repeated_words_are_searched_once_whatever_their_case():
    assert search_terms("Harbour harbour HARBOUR bridge").words == ("Harbour", "bridge")


def test_punctuation_emoji_and_nul_bytes_leave_no_words():
    assert search_terms("?!… 🌊🌊 \x00 --").words == ()


def test_right_to_left_words_keep_their_marks():
    # "مِيناء" (harbour, with a kasra): the mark stays inside the word.
    assert search_terms("مِيناء بيروت").words == ("مِيناء", "بيروت")


def test_a_very_long_query_is_shortened_at_a_word_and_says_so():
    terms = search_terms("harbour " * 2000)

    assert terms.shortened
    assert len(terms.typed) <= services.MAX_QUERY_LENGTH
    assert terms.typed.endswith("harbour")
    assert terms.words == ("harbour",)


def test_only_the_first_words_are_searched():
    terms = search_terms(" ".join(f"word{n}" for n in range(30)))

    assert len(terms.words) == services.MAX_WORDS
    assert terms.words_dropped


# Highlighting ------------------------------------------------------------------------


def test_highlight_marks_every_form_of_the_word():
    marked = services.highlight("Harbours reopen: the harbour's wall", ["harbour"])

    assert marked == "<mark>Harbours</mark> reopen: the <mark>harbour</mark>&#x27;s wall"


def test_highlight_escapes_story_text_before_marking():
    marked = services.highlight("<script>alert('harbour')</script>", ["harbour"])

    assert "<script>" not in marked
    assert marked.startswith("&lt;script&gt;alert(&#x27;<mark>harbour</mark>")


def test_highlight_never_marks_inside_an_escaped_character():
    assert services.highlight("Fish & chips", ["amp"]) == "Fish &amp; chips"


def test_highlight_ignores_accents_as_the_backends_do():
    assert services.highlight("The new café opens", ["cafe"]) == "The new <mark>café</mark> opens"


def test_excerpt_is_cut_around_the_first_match_at_spaces():
    text = " ".join(["filler"] * 100) + " the lighthouse is lit " + " ".join(["more"] * 100)

    excerpt = services.excerpt(text, ["lighthouse"], length=80)

    assert excerpt.startswith("…filler")
    assert excerpt.endswith("…")
    assert "<mark>lighthouse</mark>" in excerpt
    assert len(excerpt) < 80 + len("<mark></mark>") + 2


def test_story_text_reads_every_block_without_a_query(story):
    story.body = [
        paragraph("First <b>bold</b> words &amp; more."),
        crosshead("A crosshead"),
        {"type": "quote", "value": {"quotation": "Quoted", "attribution": "Someone"}},
        {"type": "photo", "value": {"photo": story.lead_photo_id, "caption": "A caption"}},
        {"type": "fact_box", "value": {"title": "Facts", "body": "<p>Fact one</p>"}},
    ]
    story.save()
    story.refresh_from_db()

    with CaptureQueriesContext(connection) as queries:
        text = services.story_text(story)

    assert text == "First bold words & more. A crosshead Quoted Someone A caption Facts Fact one"
    assert len(queries) == 0


# What is found ---------------------------------------------------------------------


def test_an_article_is_found_by_a_word_of_its_body(make_article):
    make_article(title="Quay works", slug="quay", body=body("Divers inspected the pontoons."))
    make_article(title="Other", slug="other")

    assert found("pontoons") == ["Quay works"]


def test_an_article_is_found_by_its_standfirst(make_article):
    make_article(title="Quay works", slug="quay", standfirst="The ferry timetable changes.")

    assert found("ferry timetable") == ["Quay works"]


def test_a_blog_post_is_found_by_its_title(make_blog_post, make_article):
    make_blog_post(title="Gulls over the estuary", slug="gulls")
    make_article()

    assert found("estuary") == ["Gulls over the estuary"]


def test_every_word_must_appear(make_article):
    make_article(title="Bridge closes", slug="bridge", body=body("The bridge closes at noon."))
    make_article(title="Bridge opens", slug="opens", body=body("The bridge opens at dawn."))

    assert found("bridge noon") == ["Bridge closes"]


def test_case_does_not_matter(make_article):
    make_article(title="Quay works", slug="quay", body=body("Divers inspected the pontoons."))

    assert found("PONTOONS") == ["Quay works"]


@pytest.mark.parametrize("title", HIDDEN)
def test_stories_readers_may_not_see_are_never_found(lighthouse_stories, make_article, title):
    make_article(title="Public story", slug="public", body=body("A lighthouse keeper retires."))

    titles = found("lighthouse")

    assert "Public story" in titles
    assert title not in titles


def test_the_other_site_finds_only_its_own_stories(lighthouse_stories):
    other = Site.objects.get(hostname="other.test")

    assert found("lighthouse", site=other) == ["Other site story"]


def test_a_withdrawn_story_is_no_longer_found(make_article):
    story = make_article(title="Quay works", slug="quay", body=body("The pontoons are unsafe."))
    news_services.withdraw_story(story=story)

    assert found("pontoons") == []


def test_a_headline_match_ranks_above_one_mention_in_the_body(make_article):
    make_article(
        title="Council meets",
        slug="meets",
        body=body("Councillors discussed parking, bins, the library and the lighthouse."),
    )
    make_article(title="Lighthouse to be restored", slug="restored")

    assert found("lighthouse") == ["Lighthouse to be restored", "Council meets"]


# Filters ---------------------------------------------------------------------------


def test_a_section_filter_includes_its_subsections(home, news, world, make_article):
    sport = add_section(home, "Sport")
    make_article(title="Harbour in the news", slug="n", parent=news)
    make_article(title="Harbour in the world", slug="w", parent=world)
    make_article(title="Harbour regatta", slug="s", parent=sport)

    titles = found("harbour", Filters(section=news))

    assert sorted(titles) == ["Harbour in the news", "Harbour in the world"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("article", ["Harbour article"]), ("blog", ["Harbour post"]), ("", None)],
)
def test_a_type_filter_keeps_articles_or_blog_posts(make_article, make_blog_post, kind, expected):
    make_article(title="Harbour article", slug="article")
    make_blog_post(title="Harbour post", slug="post")

    titles = found("harbour", Filters(kind=kind))

    assert sorted(titles) == (expected or ["Harbour article", "Harbour post"])


def test_a_date_range_counts_whole_days_in_the_newsroom_time_zone(newsroom_morning, make_article):
    # 23:30 on 1 June in London is 22:30 UTC: a story of the 1st, not the 2nd.
    for title, published_at in [
        ("Harbour late", datetime(2026, 6, 1, 23, 30, tzinfo=LONDON)),
        ("Harbour early", datetime(2026, 6, 2, 0, 30, tzinfo=LONDON)),
        ("Harbour later", datetime(2026, 6, 5, 9, 0, tzinfo=LONDON)),
    ]:
        make_article(title=title, slug=title.split()[1], published_at=published_at)
    june_1st = date(2026, 6, 1)

    first = found("harbour", Filters(published_from=june_1st, published_to=june_1st))
    second_on = found("harbour", Filters(published_from=date(2026, 6, 2)))

    assert first == ["Harbour late"]
    assert sorted(second_on) == ["Harbour early", "Harbour later"]


def test_newest_first_orders_by_first_publication(newsroom_morning, make_article, days_ago):
    make_article(title="Harbour middle", slug="m", published_at=days_ago(5))
    make_article(title="Harbour Harbour oldest", slug="o", published_at=days_ago(9))
    make_article(title="Harbour newest", slug="n", published_at=days_ago(1))

    assert found("harbour", Filters(sort="newest")) == [
        "Harbour newest",
        "Harbour middle",
        "Harbour Harbour oldest",
    ]


# Authors and tags ------------------------------------------------------------------


def test_authors_who_write_for_the_site_are_listed_with_their_story_count(
    make_article, reporter_author
):
    from broadsheet.news.models import Author

    Author.objects.create(name="Miriam Stone", slug="miriam-stone")  # no stories yet
    make_article(title="One", slug="one")
    make_article(title="Two", slug="two")

    outcome = services.search(site=None, text="miriam", filters=Filters())

    assert [(a.name, a.story_count) for a in outcome.authors] == [("Miriam Okafor", 2)]


def test_tags_are_matched_by_a_word_of_their_name(make_article):
    make_article(title="Ferry one", slug="one", tags=("harbour works", "ferries"))
    make_article(title="Ferry two", slug="two", tags=("harbour",))
    make_article(title="Ferry three", slug="three", tags=("harbour works",))

    outcome = services.search(site=None, text="harbour", filters=Filters())

    assert [(t.name, t.story_count) for t in outcome.tags] == [("harbour", 1), ("harbour works", 2)]


def test_tags_only_on_lighthouse_stories_are_not_listed(lighthouse_stories, make_article):
    make_article(title="Lighthouse open day", slug="open", tags=("lighthouse",))
    hidden = lighthouse_stories["Expired story"]
    hidden.tags.add("lighthouse keepers")
    hidden.save()

    outcome = services.search(site=None, text="lighthouse", filters=Filters())

    assert [t.name for t in outcome.tags] == ["lighthouse"]


# Snippets on results ---------------------------------------------------------------


def test_a_result_shows_the_body_around_the_match_when_the_standfirst_lacks_it(make_article):
    make_article(
        title="Quay works",
        slug="quay",
        standfirst="Repairs start next week.",
        body=body("Divers inspected the pontoons on Monday."),
    )

    hit = services.search(site=None, text="pontoons", filters=Filters()).hits[0]

    assert hit.snippet == "Divers inspected the <mark>pontoons</mark> on Monday."
    assert hit.headline == "Quay works"
    assert hit.kind == "Article"


def test_a_result_escapes_script_in_the_story(make_article):
    make_article(
        title="<script>alert(1)</script> Harbour",
        slug="script",
        standfirst="<script>alert(2)</script> harbour",
    )

    hit = services.search(site=None, text="harbour", filters=Filters()).hits[0]

    assert "<script>" not in hit.headline and "<script>" not in hit.snippet
    assert hit.headline.endswith("&lt;/script&gt; <mark>Harbour</mark>")
    assert hit.snippet == "&lt;script&gt;alert(2)&lt;/script&gt; <mark>harbour</mark>"


def test_a_page_past_the_last_shows_the_last_with_a_note(make_article, settings):
    settings.BROADSHEET_LISTING_PAGE_SIZE = 2
    for n in range(3):
        make_article(title=f"Harbour {n}", slug=f"h{n}")

    outcome = services.search(site=None, text="harbour", filters=Filters(), page_number=99999)

    assert outcome.page.number == 2
    assert len(outcome.hits) == 1
    assert any("no page 99999" in note for note in outcome.notes)


def test_nothing_found_brings_the_latest_stories(make_article):
    make_article(title="Quay works", slug="quay")

    outcome = services.search(site=None, text="zeppelin", filters=Filters())

    assert outcome.hits == []
    assert [story.title for story in outcome.latest] == ["Quay works"]


def test_a_story_is_found_by_its_writers_name(make_article):
    make_article(title="Quay works", slug="quay")

    assert found("Okafor") == ["Quay works"]


def test_a_story_is_found_by_a_tag_it_carries(make_article):
    make_article(title="Quay works", slug="quay", tags=("regatta",))
    make_article(title="Other", slug="other")

    assert found("regatta") == ["Quay works"]


def test_excerpt_starts_at_the_matched_sentence_when_it_is_near():
    text = " ".join(["Filler words here."] * 20) + " The lighthouse is lit tonight. More follows."

    excerpt = services.excerpt(text, ["lighthouse"], length=120)

    assert excerpt.startswith("…The <mark>lighthouse</mark> is lit tonight.")


def test_excerpt_of_a_short_text_is_the_whole_text():
    assert services.excerpt("The lighthouse is lit.", ["lighthouse"]) == (
        "The <mark>lighthouse</mark> is lit."
    )
