"""Arabic agency copy on an English site, as a reader sees it on a phone and a desktop."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from broadsheet.news import services
from tests.browser.conftest import DESKTOP, LEAD_PUBLISHED, PHONE
from tests.conftest import crosshead, paragraph

SHOTS = Path("/tmp/language-shots")
HEADLINE = "مجلس النواب يقر موازنة العام المقبل بعد جلسة مطولة"


@pytest.fixture
def arabic_story(make_article, agency):
    story = make_article(
        title=HEADLINE,
        slug="budget-passed",
        language="ar",
        dateline="بيروت",
        agency=agency,
        standfirst="صوّت النواب بأغلبية واضحة على مشروع الموازنة بعد نقاش استمر يومين.",
        lead_photo_caption="النواب خلال جلسة التصويت",
        body=[
            paragraph("وقال رئيس المجلس إن الموازنة تضمن زيادة الإنفاق على الصحة والتعليم."),
            crosshead("ردود الفعل"),
            paragraph("ورحبت الأوساط الاقتصادية بالخطوة، فيما انتقدت المعارضة غياب الإصلاحات."),
            paragraph("ومن المتوقع أن تدخل الموازنة حيز التنفيذ مطلع الشهر المقبل."),
        ],
    )
    services.backdate_story(story=story, published_at=LEAD_PUBLISHED)
    return story


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_arabic_copy_reads_right_to_left_while_the_site_stays_english(
    open_browser, arabic_story, viewport
):
    page = open_browser(viewport=viewport)
    page.goto(arabic_story.url)

    copy = page.locator(".story__copy")
    expect(copy).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADLINE)
    assert copy.evaluate("element => getComputedStyle(element).direction") == "rtl"
    assert page.locator("body").evaluate("element => getComputedStyle(element).direction") == "ltr"
    masthead = page.get_by_role("banner")
    assert masthead.evaluate("element => getComputedStyle(element).direction") == "ltr"
    # The headline starts at the column's right edge, as Arabic is set.
    column = copy.bounding_box()
    headline = page.locator(".story__headline").evaluate(
        "element => { const r = document.createRange(); r.selectNodeContents(element);"
        " const b = r.getBoundingClientRect(); return {left: b.left, right: b.right}; }"
    )
    assert abs(column["x"] + column["width"] - headline["right"]) < 2
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    expect(page.locator(".story__byline")).to_contain_text("By Miriam Okafor and CPA")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"arabic-{viewport['width']}.png", full_page=True)
