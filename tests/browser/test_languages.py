"""Arabic agency copy on an English site, as a reader sees it on a phone and a desktop."""

from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from broadsheet.news import services
from broadsheet.news.models import Agency, ArticlePage
from tests.browser.conftest import DESKTOP, NEWSROOM_TZ, PHONE
from tests.conftest import crosshead, paragraph

pytestmark = pytest.mark.browser

# For people to look at: /tmp/language-shots/arabic-320.png and arabic-1280.png
SHOTS = Path("/tmp/language-shots")

# Early on the fixed clock's morning (tests.conftest.NEWSROOM_MORNING, 06:30), so the
# story is a day's news: comments and votes open, and the byline's times are known.
PUBLISHED = datetime(2026, 11, 26, 3, 10, tzinfo=NEWSROOM_TZ)
UPDATED = datetime(2026, 11, 26, 5, 45, tzinfo=NEWSROOM_TZ)

HEADLINE = "مئات العائلات تعود إلى أحياء بيروت المتضررة بعد أشهر من النزوح"
STANDFIRST = (
    "عادت مئات العائلات إلى منازلها في الضاحية الجنوبية لبيروت، "
    "لتجد كثيراً منها بحاجة إلى ترميم قبل حلول الشتاء."
)
BODY = [
    paragraph(
        "قال مسؤولون محليون إن أكثر من ثلاثمئة عائلة عادت خلال الأسبوع الماضي، "
        "فيما تواصل فرق الدفاع المدني إزالة الركام من الشوارع الرئيسية."
    ),
    paragraph(
        "وتصطف الشاحنات المحمّلة بالأثاث والفرش عند مداخل الأحياء منذ ساعات الصباح الأولى، "
        "بينما يتفقد السكان الجدران المتشققة والنوافذ المحطمة."
    ),
    crosshead("«لا نملك مكاناً آخر»"),
    paragraph(
        "وقالت أم خالد، وهي أم لأربعة أطفال، أمام مبنى فقد واجهته: "
        "«البيت متضرر، لكنه بيتنا. لا نملك مكاناً آخر نذهب إليه»."
    ),
    {
        "type": "quote",
        "value": {
            "quotation": "سنعيد بناء ما تهدّم حجراً حجراً، كما فعل آباؤنا من قبل.",
            "attribution": "رئيس بلدية المنطقة",
        },
    },
    paragraph(
        "وقدّر تقرير للبنك الدولي (World Bank) كلفة إعادة الإعمار بنحو 2.5 مليار دولار، "
        "في حين أعلنت البلدية أنها ستفتح مركزاً لتسجيل طلبات الترميم يوم الاثنين."
    ),
]


@pytest.fixture
def arabic_story(newsroom_morning, news, photo):
    """An AFP story from the agency's Arabic service, as the wire desk publishes it."""
    news.show_in_menus = True  # so the masthead's nav has a section to show
    news.save_revision().publish()
    afp = Agency.objects.create(name="Agence France-Presse", byline_name="AFP", slug="afp")
    story = ArticlePage(
        title=HEADLINE,
        slug="beirut-families-return",
        language="ar",
        dateline="بيروت",
        agency=afp,
        standfirst=STANDFIRST,
        lead_photo=photo,
        lead_photo_caption="عائلات تنقل أمتعتها عائدة إلى أحد أحياء الضاحية الجنوبية",
        body=BODY,
    )
    story.tags.add("Lebanon")
    story = services.publish_story(parent=news, story=story)
    services.backdate_story(story=story, published_at=PUBLISHED, updated_at=UPDATED)
    return story


def direction(locator):
    return locator.evaluate("element => getComputedStyle(element).direction")


def text_box(locator):
    """Where an element's text is drawn (not its box, which spans the column)."""
    return locator.evaluate(
        "element => { const range = document.createRange(); range.selectNodeContents(element);"
        " const box = range.getBoundingClientRect(); return {left: box.left, right: box.right}; }"
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["320px", "1280px"])
def test_arabic_copy_reads_right_to_left_while_the_site_stays_english(
    open_browser, arabic_story, viewport
):
    page = open_browser(viewport=viewport)
    page.goto(arabic_story.url)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # lazy photos load
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, 0)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"arabic-{viewport['width']}.png", full_page=True)

    copy = page.locator(".story__copy")
    expect(copy).to_have_attribute("lang", "ar")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADLINE)
    assert direction(copy) == "rtl"
    for part in [".story__headline", ".story__standfirst", ".story__body"]:
        assert direction(page.locator(part)) == "rtl", part
    # The site around the story stays English, left to right.
    assert direction(page.locator("body")) == "ltr"
    assert direction(page.get_by_role("banner")) == "ltr"
    assert direction(page.get_by_role("navigation", name="Sections")) == "ltr"
    assert direction(page.get_by_role("navigation", name="Breadcrumb")) == "ltr"
    assert direction(page.locator(".comment-form")) == "ltr"
    expect(page.get_by_label("Your name")).to_be_visible()

    # Arabic is set from the right: the headline, standfirst and dateline start at the
    # column's right edge.
    column = copy.bounding_box()
    column_right = column["x"] + column["width"]
    for part in [".story__headline", ".story__standfirst"]:
        assert abs(text_box(page.locator(part))["right"] - column_right) < 2, part
    dateline = page.locator(".story__body .dateline")
    expect(dateline).to_have_text("بيروت —")
    assert abs(dateline.bounding_box()["x"] + dateline.bounding_box()["width"] - column_right) < 2
    # The byline is the site's English, lined up with the copy on the right.
    byline = page.locator(".story__byline")
    assert direction(byline) == "ltr"
    assert " ".join(byline.inner_text().split()) == (
        "By AFP - 26 Nov 2026, 03:10 - Last updated at 26 Nov 2026, 05:45"
    )
    assert abs(text_box(byline)["right"] - column_right) < 2
    # The pull quote's rule is on the side the text starts from: the right.
    quote = page.locator(".pull-quote")
    assert quote.evaluate("el => getComputedStyle(el).borderRightWidth") == "4px"
    assert quote.evaluate("el => getComputedStyle(el).borderLeftWidth") == "0px"

    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_an_arabic_card_reads_right_to_left_among_english_ones(
    open_browser, arabic_story, make_article
):
    make_article(title="Harbour bridge to close for repairs", slug="harbour-bridge")
    page = open_browser(viewport=PHONE)
    page.goto(arabic_story.get_parent().url)

    arabic = page.locator(".card__text", has=page.get_by_role("link", name=HEADLINE))
    english = page.locator(".card__text", has_text="Harbour bridge to close")
    assert direction(arabic.locator(".card__headline")) == "rtl"
    assert direction(arabic.locator(".card__standfirst")) == "rtl"
    assert direction(arabic.locator(".card__meta")) == "ltr"
    assert direction(english.locator(".card__headline")) == "ltr"
    card = arabic.bounding_box()
    headline = text_box(arabic.locator(".card__headline a"))
    assert abs(card["x"] + card["width"] - headline["right"]) < 2
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "arabic-card-320.png", full_page=True)
