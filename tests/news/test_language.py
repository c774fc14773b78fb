"""Stories keep their language: Arabic copy reads right to left inside an English site."""

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError

from broadsheet.news.models import text_direction, validate_language_tag

ARABIC_HEADLINE = "مجلس المدينة يوافق على إعادة بناء جدار الميناء"


def story_copy(client, story):
    return BeautifulSoup(client.get(story.url).content, "html.parser")


@pytest.mark.parametrize(
    "language, direction",
    [("ar", "rtl"), ("he", "rtl"), ("fa-IR", "rtl"), ("en", "ltr"), ("fr", "ltr"), ("", "ltr")],
)
def test_text_direction_follows_the_primary_language(language, direction):
    assert text_direction(language) == direction


def test_an_arabic_story_carries_lang_and_dir_on_its_copy_only(client, make_article, agency):
    story = make_article(
        title=ARABIC_HEADLINE, standfirst="صوّت المجلس يوم الثلاثاء.", language="AR",
        dateline="Beirut", agency=agency,
    )  # fmt: skip

    html = story_copy(client, story)

    copy = html.select_one(".story__copy")
    assert (copy["lang"], copy["dir"]) == ("ar", "rtl")
    assert copy.select_one("h1").get_text() == ARABIC_HEADLINE
    byline = copy.select_one(".story__byline")
    assert (byline["lang"], byline["dir"]) == ("en-GB", "ltr")
    assert byline.get_text(" ", strip=True).startswith("By Miriam Okafor and CPA")
    assert html.select_one(".dateline bdi").get_text() == "BEIRUT"
    assert html.html["lang"] == "en-GB" and not html.html.get("dir")
    for chrome in html.select("header.masthead, nav, footer, .breadcrumb"):
        assert not chrome.find_parent(attrs={"dir": "rtl"})


def test_a_story_in_the_sites_language_carries_no_marks(client, make_article):
    for language in ("", "en-gb"):
        story = make_article(language=language)

        assert not story_copy(client, story).select_one(".story__copy").has_attr("lang")


def test_a_card_in_a_listing_carries_the_storys_language(client, make_article, news):
    make_article(title=ARABIC_HEADLINE, language="ar")

    card = BeautifulSoup(client.get(news.url).content, "html.parser").select_one(
        ".card__text[lang=ar]"
    )

    assert card["dir"] == "rtl" and ARABIC_HEADLINE in card.get_text()


@pytest.mark.parametrize("tag", ["arabic", "a", "en_GB", "ar--x", "<script>"])
def test_a_language_that_is_not_a_code_is_refused_with_a_reason(tag):
    with pytest.raises(ValidationError, match="is not a language code"):
        validate_language_tag(tag)
