"""Stories keep their language: Arabic copy reads right to left inside an English site."""

from datetime import date

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.test import override_settings

from broadsheet.news.models import (
    ArticlePage,
    Author,
    Byline,
    Correction,
    text_direction,
    validate_language_tag,
)

ARABIC_HEADLINE = "مجلس المدينة يوافق على إعادة بناء جدار الميناء"
HEBREW_HEADLINE = "מועצת העיר אישרה את שיקום חומת הנמל"
# The site's own words (settings.LANGUAGE_CODE of the test settings).
SITE_LANGUAGE = "en-gb"


def page_of(client, story):
    response = client.get(story.url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def marks(element):
    """The lang and dir an element carries itself (None where it has none)."""
    return element.get("lang"), element.get("dir")


# Which way a language is written ------------------------------------------------------


@pytest.mark.parametrize(
    "language, direction",
    [
        ("ar", "rtl"),
        ("AR-EG", "rtl"),
        ("he", "rtl"),
        ("fa-IR", "rtl"),
        ("ur", "rtl"),
        ("ckb", "rtl"),
        ("yi", "rtl"),
        ("pa-arab", "rtl"),  # Punjabi in Shahmukhi, as in Pakistan
        ("sd-deva", "ltr"),  # Sindhi in Devanagari, as in India
        ("az-arab-ir", "rtl"),
        ("ar-latn", "ltr"),  # Arabic in Latin letters
        ("ku", "ltr"),  # Kurmanji
        ("en", "ltr"),
        ("en-gb", "ltr"),
        ("fr", "ltr"),
        ("zh-hant-tw", "ltr"),
        ("es-419", "ltr"),
        ("", "ltr"),
    ],
)
def test_text_direction_follows_the_script_or_the_primary_language(language, direction):
    assert text_direction(language) == direction


@pytest.mark.parametrize(
    "language, tag, direction",
    [("ar", "ar", "rtl"), ("he", "he", "rtl"), ("en", "en", "ltr"), ("", SITE_LANGUAGE, "ltr")],
)
def test_a_story_knows_its_language_and_direction_blank_meaning_the_sites(language, tag, direction):
    story = ArticlePage(title="x", language=language)

    assert story.language_tag == tag
    assert story.text_direction == direction


@override_settings(LANGUAGE_CODE="ar")
def test_a_blank_language_is_whatever_the_site_is_written_in():
    story = ArticlePage(title="x", language="")

    assert (story.language_tag, story.text_direction, story.foreign_language) == ("ar", "rtl", "")


def test_a_language_is_stored_in_lower_case(make_article):
    story = make_article(language=" AR-eg ")

    assert ArticlePage.objects.get(pk=story.pk).language == "ar-eg"


@pytest.mark.parametrize("tag", ["ar", "ckb", "pt-br", "zh-hant-tw", "es-419", "AR", ""])
def test_a_language_code_is_accepted(tag):
    validate_language_tag(tag)


@pytest.mark.parametrize(
    "tag", ["arabic", "a", "en_GB", "ar--x", "ar-", "-ar", "ar eg", "<script>", "عربي"]
)
def test_a_language_that_is_not_a_code_is_refused_with_a_reason(tag):
    with pytest.raises(ValidationError, match="is not a language code: use one like 'ar'"):
        validate_language_tag(tag)


def test_an_invalid_language_is_refused_when_the_story_is_validated(make_article):
    story = make_article()
    story.language = "Arabic"

    with pytest.raises(ValidationError) as refused:
        story.full_clean()

    assert "language" in refused.value.message_dict


# The article page ---------------------------------------------------------------------


def test_an_arabic_story_carries_lang_and_dir_on_its_copy_only(client, make_article, agency):
    story = make_article(
        title=ARABIC_HEADLINE, standfirst="صوّت المجلس يوم الثلاثاء.", language="AR",
        dateline="Beirut", agency=agency,
    )  # fmt: skip

    html = page_of(client, story)

    copy = html.select_one(".story__copy")
    assert marks(copy) == ("ar", "rtl")
    assert copy.select_one("h1").get_text() == ARABIC_HEADLINE
    assert copy.select_one(".story__standfirst") and copy.select_one(".story__body")
    byline = copy.select_one(".story__byline")
    assert marks(byline) == (SITE_LANGUAGE, "ltr")
    assert byline.get_text(" ", strip=True).startswith("By Miriam Okafor and CPA")
    # A Latin dateline in Arabic copy is isolated, so it stays "BEIRUT —" before the text.
    assert html.select_one(".story__body p .dateline bdi").get_text() == "BEIRUT"
    assert "{#" not in html.get_text() and "{%" not in html.get_text()


@pytest.mark.parametrize("language", ["ar", "he", "en", ""])
def test_the_sites_chrome_never_carries_a_direction(client, make_article, language):
    story = make_article(language=language)

    html = page_of(client, story)

    assert marks(html.html) == ("en-GB", None)
    assert not html.body.has_attr("dir") and not html.select_one("article.story").has_attr("dir")
    chrome = html.select(
        "header.masthead, nav, footer, .breadcrumb, #votes, #comments, .newsletter-signup"
    )
    assert len(chrome) >= 7
    for element in chrome:
        assert not element.has_attr("dir"), element.name
        assert not element.find_parent(attrs={"dir": True}), element.name
        if language:
            assert not element.find_parent(attrs={"lang": language}), element.name


def test_a_hebrew_story_reads_right_to_left(client, make_article):
    story = make_article(title=HEBREW_HEADLINE, language="he")

    copy = page_of(client, story).select_one(".story__copy")

    assert marks(copy) == ("he", "rtl")
    assert copy.select_one("h1").get_text() == HEBREW_HEADLINE


def test_an_english_story_from_another_english_carries_lang_and_no_direction(client, make_article):
    story = make_article(language="en")

    html = page_of(client, story)

    assert marks(html.select_one(".story__copy")) == ("en", None)
    assert marks(html.select_one(".story__byline")) == (SITE_LANGUAGE, None)


@pytest.mark.parametrize("language", ["", SITE_LANGUAGE, "EN-GB"])
def test_a_story_in_the_sites_language_carries_no_marks(client, make_article, language):
    story = make_article(language=language)

    html = page_of(client, story)

    assert marks(html.select_one(".story__copy")) == (None, None)
    assert marks(html.select_one(".story__byline")) == (None, None)
    assert not html.select("main [dir=rtl]")


def test_a_blog_post_keeps_its_language_too(client, make_blog_post):
    post = make_blog_post(title=ARABIC_HEADLINE, language="ar")

    copy = page_of(client, post).select_one(".story__copy")

    assert marks(copy) == ("ar", "rtl")
    assert copy.select_one("h1").get_text() == ARABIC_HEADLINE


def test_names_credits_and_corrections_keep_their_own_direction(client, make_article, photo):
    arabic_author = Author.objects.create(name="سامر خليل", slug="samer-khalil")
    story = make_article(
        title=ARABIC_HEADLINE,
        language="ar",
        corrections=[Correction(date=date(2026, 11, 20), note="صُحّح اسم الوزير.")],
    )
    Byline.objects.create(story=story, author=arabic_author, sort_order=1)

    html = page_of(client, story)

    names = html.select(".story__byline a")
    assert [(a.get_text(), a["dir"]) for a in names] == [
        ("Miriam Okafor", "auto"),
        ("سامر خليل", "auto"),
    ]
    assert html.select_one(".story__lead-photo .credit")["dir"] == "auto"
    note = html.select_one(".story__corrections li span")
    assert (note.get_text(), note["dir"]) == ("صُحّح اسم الوزير.", "auto")


# Listings -----------------------------------------------------------------------------


def test_a_card_in_a_listing_carries_the_storys_language(client, make_article, news):
    make_article(title="Ferry fares rise", slug="ferry-fares")
    make_article(title=ARABIC_HEADLINE, standfirst="صوّت المجلس يوم الثلاثاء.", language="ar")

    html = BeautifulSoup(client.get(news.url).content, "html.parser")

    arabic, english = html.select(".card__text")
    assert marks(arabic) == ("ar", "rtl")
    assert arabic.select_one(".card__headline").get_text(strip=True) == ARABIC_HEADLINE
    assert arabic.select_one(".card__standfirst").get_text() == "صوّت المجلس يوم الثلاثاء."
    assert marks(arabic.select_one(".card__meta")) == (SITE_LANGUAGE, "ltr")
    assert marks(english) == (None, None)
    assert marks(english.select_one(".card__meta")) == (None, None)
