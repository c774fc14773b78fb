"""Readers take part, in a real browser: star votes and comments, with and without
JavaScript, and a corpus of script-injection payloads that must come back as plain text."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from broadsheet.engagement.models import Comment, Vote
from tests.browser.conftest import DESKTOP, PHONE

SHOTS = Path("/tmp/engagement-shots")
QUESTION = re.compile(r"^\s*(\d+) \+ (\d+) =\s*$")
STATE = re.compile(r"/engagement/stories/\d+/state/$")
TEXT = "The bridge has needed this for years; glad the council finally acted."

# Every payload, if it ran, would call alert() or write to the top window's __xss list.
BODY_PAYLOADS = [
    '<script>alert("xss-1")</script>',
    '<img src=x onerror=alert("xss-2")>',
    '<svg onload=alert("xss-3")>',
    '<svg><script>alert("xss-4")</script></svg>',
    '"><script>alert("xss-5")</script>',
    "'><img src=x onerror=alert('xss-6')>",
    '</textarea><script>alert("xss-7")</script>',
    '</p></div></article><script>alert("xss-8")</script>',
    "<iframe srcdoc=\"<script>parent.alert('xss-9')</script>\"></iframe>",
    "<iframe src=\"javascript:parent.alert('xss-10')\"></iframe>",
    "<a href=\"javascript:alert('xss-11')\">read more</a>",
    "javascript:alert('xss-12')",
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgneHNzLTEzJyk8L3NjcmlwdD4="></object>',
    '<body onload=alert("xss-14")>',
    '<details open ontoggle=alert("xss-15")>',
    '<input autofocus onfocus=alert("xss-16")>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert("xss-17")>',
    "<scr<script>ipt>alert('xss-18')</scr</script>ipt>",
    '<img src="x" onerror="&#97;&#108;&#101;&#114;&#116;(&#39;xss-19&#39;)">',
    "&lt;script&gt;alert('xss-20')&lt;/script&gt;",
    r"\u003cscript\u003ealert('xss-21')\u003c/script\u003e",
    "%3Cscript%3Ealert('xss-22')%3C%2Fscript%3E",
    "\uff1cscript\uff1ealert('xss-23')\uff1c/script\uff1e",
    'https://example.org/"onmouseover="alert(\'xss-24\')"autofocus="',
    "www.example.org/'onfocus='top.__xss.push(25)'autofocus='",
]
# Names are at most 80 characters; the name is also echoed into a data- attribute.
NAME_PAYLOADS = [
    '<script>alert("name-1")</script>',
    '"><img src=x onerror=alert("name-2")>',
    "'><svg onload=alert('name-3')>",
    'Ruth" onmouseover="alert(4)" data-x="',
    "</span><script>top.__xss.push('name-5')</script>",
]

# Runs in every frame before the page's own scripts: records any dialog a payload opens.
DETECTOR = """
(() => {
  let sink;
  try { sink = window.top.__xss = window.top.__xss || []; }
  catch (e) { sink = window.__xss = window.__xss || []; }
  window.__xss = sink;
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    window[name] = (...args) => { sink.push(name + ":" + args.join(",")); };
  }
})();
"""
# Elements and attributes no comment may contain, however it was written.
DOM_INJECTIONS = """
root => {
  const found = [];
  for (const el of root.querySelectorAll(".comment__meta *, .comment__body *")) {
    const tag = el.tagName.toLowerCase();
    if (!["p", "br", "a", "span", "time"].includes(tag)) found.push(`<${tag}>`);
    const href = el.getAttribute("href") || "";
    if (tag === "a" && !(/^https?:/.test(href) && el.relList.contains("nofollow"))) {
      found.push(`a@${href}`);  // links made from text are web links, and nofollow
    }
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on")) found.push(`${tag}[${attr.name}]`);
      if (/^\\s*(javascript|data|vbscript):/i.test(attr.value)) found.push(`${tag}@${attr.value}`);
    }
  }
  return found;
}
"""


@pytest.fixture
def page_without_js(browser, site_url):
    """A desktop-width tab with JavaScript switched off."""
    context = browser.new_context(viewport=DESKTOP, base_url=site_url, java_script_enabled=False)
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


def answer(question):
    match = QUESTION.match(question)
    assert match, f"not a math question: {question!r}"
    return str(int(match[1]) + int(match[2]))


def open_story(page, story):
    """Load the article and wait for the reader's state (tally, vote, challenge) to arrive."""
    with page.expect_response(STATE):
        page.goto(story.url)
    page.evaluate("window.__stayed = true")  # lost if the page navigates


def assert_stayed(page, story):
    expect(page).to_have_url(re.compile(re.escape(story.url) + "$"))
    assert page.evaluate("window.__stayed === true"), "the page was reloaded or left"


def fill_comment(form, *, name="Ruth Adeyemi", email="ruth@example.org", body=TEXT):
    form.get_by_label("Your name").fill(name)
    form.get_by_label("Email (optional)").fill(email)
    form.get_by_label("Comment", exact=True).fill(body)


def answer_challenge(form, *, wrong=False):
    """Answer the question on the form; returns the token it answered."""
    question = form.locator("[data-challenge-question]")
    expect(question).to_have_text(QUESTION)
    given = int(answer(question.inner_text())) + (1 if wrong else 0)
    form.get_by_label(QUESTION).fill(str(given))
    return form.locator("[data-challenge-token]").input_value()


def post_in_place(page, **fields):
    """Post a comment through the article's own form with JavaScript, and wait until the
    page has asked for the next question (the end of the round trip)."""
    form = page.locator("form[data-comment-form]")
    fill_comment(form, **fields)
    token = answer_challenge(form)
    form.get_by_role("button", name="Post comment").click()
    expect(form.locator("[data-challenge-token]")).not_to_have_value(token)
    return form


STAFF_REPLY = "The council says the ferry will run every 20 minutes from March."


def add_discussion(story, *, third_name="Tom Baines"):
    """Two readers' comments and a staff reply, as moderators would have published them."""
    first = Comment.objects.create(
        story=story,
        name="Ruth Adeyemi",
        body="The bridge has needed this for years.\n\nWill the ferry run more often "
        "while it is shut? https://www.northgate.gov.uk/transport/bridge-closure-timetable",
        status=Comment.Status.PUBLISHED,
    )
    Comment.objects.create(
        story=story,
        parent=first,
        name="Miriam Okafor",
        body=STAFF_REPLY,
        status=Comment.Status.PUBLISHED,
        is_staff_reply=True,
    )
    Comment.objects.create(
        story=story,
        name=third_name,
        body="Six months is far too long for the people who work on the quay.",
        status=Comment.Status.PUBLISHED,
    )
    return first


# Votes ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_voting_with_javascript_updates_the_tally_in_place_and_is_restored_on_reload(page, story):
    open_story(page, story)
    votes = page.locator("#votes")
    expect(votes.locator("[data-votes-text]")).to_have_text(
        "No votes yet. Be the first to rate this story."
    )

    votes.locator(f"label[for='stars-{story.pk}-4']").click()
    page.mouse.move(0, 0)
    four = votes.get_by_role("radio", name="4 stars", exact=True)
    expect(four).to_be_checked()
    # The chosen star and those before it are filled, the fifth is not.
    colours = votes.locator(".votes__stars label").evaluate_all(
        "labels => labels.map(l => getComputedStyle(l).color)"
    )
    assert colours[0] != colours[1] and len(set(colours[1:])) == 1, colours  # 5, 4..1
    votes.get_by_role("button", name="Vote").click()

    expect(votes.locator("[data-votes-text]")).to_have_text("1 user has voted.")
    expect(votes.locator("[data-votes-average]")).to_have_text("4.0 out of 5.")
    expect(votes.locator("[data-votes-yours]")).to_contain_text("Your vote: 4 stars")
    assert_stayed(page, story)
    assert list(Vote.objects.filter(story=story).values_list("stars", flat=True)) == [4]

    open_story(page, story)

    expect(votes.get_by_role("radio", name="4 stars", exact=True)).to_be_checked()
    expect(votes.locator("[data-votes-yours]")).to_contain_text("Your vote: 4 stars")
    expect(votes.locator("[data-votes-tally]")).to_have_text("4.0 out of 5. 1 user has voted.")


@pytest.mark.browser
def test_voting_without_javascript_by_keyboard_lands_on_the_thank_you_page(page_without_js, story):
    page = page_without_js
    page.goto(story.url)
    votes = page.locator("#votes")
    expect(votes.get_by_role("group", name="Rate this story")).to_be_visible()

    votes.get_by_role("radio", name="5 stars", exact=True).focus()
    page.keyboard.press("ArrowDown")  # the stars run 5 to 1 in the markup

    four = votes.get_by_role("radio", name="4 stars", exact=True)
    expect(four).to_be_focused()
    expect(four).to_be_checked()
    # The radio itself is invisible; its star shows where the keyboard is.
    outline = votes.locator(f"label[for='stars-{story.pk}-4']").evaluate(
        "label => getComputedStyle(label).outlineStyle"
    )
    assert outline == "solid"
    votes.get_by_role("button", name="Vote").click()

    expect(page).to_have_url(re.compile(rf"/engagement/stories/{story.pk}/vote/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for voting")
    expect(page.get_by_role("status")).to_have_text(
        f"You gave {story.title} 4 stars. 1 user has voted. Average: 4.0 out of 5."
    )
    page.get_by_role("link", name="Back to the story").click()
    expect(page.locator("#votes [data-votes-tally]")).to_have_text(
        "4.0 out of 5. 1 user has voted."
    )


# Comments -------------------------------------------------------------------------------


@pytest.mark.browser
def test_comment_without_javascript_asks_the_question_on_a_page_of_its_own_then_posts(
    page_without_js, story
):
    page = page_without_js
    page.goto(story.url)
    form = page.locator("form[data-comment-form]")
    expect(form.locator("[data-challenge-question]")).to_be_hidden()
    expect(
        form.get_by_text("You will be asked a simple math question when you send your comment.")
    ).to_be_visible()
    fill_comment(form)
    form.get_by_role("button", name="Post comment").click()

    expect(page).to_have_url(re.compile(rf"/engagement/stories/{story.pk}/comments/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Add new comment")
    expect(page.get_by_text("Please answer the math question.", exact=True)).to_be_visible()
    form = page.locator("form.comment-form")
    expect(form.get_by_label("Comment", exact=True)).to_have_value(TEXT)
    expect(form.get_by_label("Your name")).to_have_value("Ruth Adeyemi")
    assert not Comment.objects.exists()
    answer_challenge(form)
    form.get_by_role("button", name="Post comment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your comment")
    expect(page.get_by_role("status")).to_have_text("Thank you: your comment is published.")
    page.get_by_role("link", name="Back to the story").click()
    comments = page.locator("#comments")
    expect(comments.get_by_role("heading", level=2)).to_have_text("Comments (1)")
    expect(comments.locator(".comment__name")).to_have_text(["Ruth Adeyemi"])
    expect(comments.locator(".comment__body")).to_have_text([TEXT])


@pytest.mark.browser
def test_comment_with_javascript_shows_the_question_then_adds_the_comment_in_place(page, story):
    open_story(page, story)
    form = page.locator("form[data-comment-form]")
    expect(form.locator("[data-challenge-question]")).to_have_text(QUESTION)
    expect(form.get_by_text("You will be asked a simple math question")).to_be_hidden()

    post_in_place(page)

    comments = page.locator("#comments")
    expect(comments.locator(".comment__body")).to_have_text([TEXT])
    expect(comments.locator(".comment__name")).to_have_text(["Ruth Adeyemi"])
    expect(comments.get_by_text("No comments yet.")).to_be_hidden()
    expect(form.locator("[data-comment-status]")).to_have_text(
        "Thank you: your comment is published."
    )
    expect(form.get_by_label("Comment", exact=True)).to_have_value("")
    expect(form.get_by_label(QUESTION)).to_have_value("")
    assert_stayed(page, story)
    assert Comment.objects.get().status == Comment.Status.PUBLISHED


@pytest.mark.browser
def test_comment_with_javascript_wrong_answer_shows_the_error_and_a_new_question(page, story):
    open_story(page, story)
    form = page.locator("form[data-comment-form]")
    fill_comment(form)
    token = answer_challenge(form, wrong=True)
    form.get_by_role("button", name="Post comment").click()

    error = "That is not the right answer to the math question. Please try the new one."
    expect(form.get_by_text(error)).to_be_visible()
    expect(form.locator("[data-challenge-token]")).not_to_have_value(token)
    expect(form.locator("[data-challenge-question]")).to_have_text(QUESTION)
    expect(form.get_by_label(QUESTION)).to_have_value("")
    expect(form.get_by_label("Comment", exact=True)).to_have_value(TEXT)
    expect(page.locator("#comments .comment")).to_have_count(0)
    assert not Comment.objects.exists()

    token = answer_challenge(form)
    form.get_by_role("button", name="Post comment").click()

    expect(page.locator("#comments .comment__body")).to_have_text([TEXT])
    expect(form.get_by_text(error)).to_have_count(0)
    assert_stayed(page, story)


# Script injection -----------------------------------------------------------------------


@pytest.mark.browser
def test_script_injection_payloads_in_comments_come_back_as_text_and_never_run(
    page, story, settings
):
    settings.BROADSHEET_COMMENTS_PER_READER_PER_MINUTE = 1000
    settings.BROADSHEET_COMMENTS_PER_ADDRESS_PER_HOUR = 1000
    settings.BROADSHEET_COMMENT_SCORERS = []  # links must not hold a payload for moderation
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(DETECTOR)

    def injected():
        found = [hit for frame in page.frames for hit in frame.evaluate("window.__xss || []")]
        return found + dialogs

    # With JavaScript, each comment is posted in place and its HTML inserted by the script.
    open_story(page, story)
    names = [NAME_PAYLOADS[n % len(NAME_PAYLOADS)] for n in range(len(BODY_PAYLOADS))]
    for name, body in zip(names, BODY_PAYLOADS, strict=True):
        post_in_place(page, name=name, body=body)
    comments = page.locator("#comments")
    expect(comments.locator(".comment__body")).to_have_count(len(BODY_PAYLOADS))
    assert injected() == []
    assert comments.evaluate(DOM_INJECTIONS) == []

    # Without the page's script: the form page gives every payload back in its fields.
    everything = "\n".join(BODY_PAYLOADS)
    page.goto(f"/engagement/stories/{story.pk}/comments/new/")
    form = page.locator("form.comment-form")
    fill_comment(form, name=NAME_PAYLOADS[1], body=everything)
    form.get_by_role("button", name="Post comment").click()  # unanswered: the form again
    expect(page.get_by_text("Please answer the math question.", exact=True)).to_be_visible()
    expect(form.get_by_label("Your name")).to_have_value(NAME_PAYLOADS[1])
    assert form.get_by_label("Comment", exact=True).input_value() == everything
    assert injected() == []
    answer_challenge(form)
    form.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("status")).to_have_text("Thank you: your comment is published.")

    # Rendered by the server when the article is read again.
    open_story(page, story)
    page.mouse.move(0, 0)
    for name in comments.locator(".comment__name").all()[: len(NAME_PAYLOADS)]:
        name.hover()  # a payload that broke out of its attribute would now run
    expect(comments.locator(".comment__name")).to_have_text([*names, NAME_PAYLOADS[1]])
    expect(comments.locator(".comment__body")).to_have_text(
        [*BODY_PAYLOADS, "".join(BODY_PAYLOADS)]
    )
    assert comments.locator(".comment__body").last.inner_text().splitlines() == BODY_PAYLOADS
    assert comments.evaluate(DOM_INJECTIONS) == []
    # A reply to a comment puts its author's name into the form, as text.
    comments.get_by_role("link", name="Reply").first.click()
    expect(page.locator("[data-reply-note]")).to_contain_text(f"Replying to {names[0]}.")
    assert injected() == []
    assert Comment.objects.filter(status=Comment.Status.PUBLISHED).count() == len(names) + 1


# Layout ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["320px", "1280px"])
def test_article_with_comments_and_votes_never_scrolls_sideways(open_browser, story, viewport):
    add_discussion(story)
    page = open_browser(viewport=viewport)
    open_story(page, story)
    expect(page.locator("form[data-comment-form] [data-challenge-question]")).to_have_text(QUESTION)
    expect(page.locator(".comment--staff .badge")).to_have_text("Staff")

    # For people to look at: /tmp/engagement-shots/*-320.png and *-1280.png
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = viewport["width"]
    page.screenshot(path=SHOTS / f"article-{width}.png", full_page=True)
    page.locator("#comments").screenshot(path=SHOTS / f"comments-{width}.png")
    page.get_by_role("radio", name="5 stars", exact=True).focus()
    page.keyboard.press("ArrowDown")
    page.locator("#votes").screenshot(path=SHOTS / f"votes-keyboard-focus-{width}.png")
    page.get_by_label("Your name").focus()
    page.keyboard.press("Tab")
    page.locator(".comment-form").screenshot(path=SHOTS / f"form-focus-{width}.png")

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for part in ["#votes", "#comments", ".comment-form"]:
        box = page.locator(part).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (part, box)


@pytest.mark.browser
def test_a_long_unbroken_reader_name_wraps_on_a_narrow_phone(open_browser, story):
    add_discussion(story, third_name="HarbourSideResidentsAssociationSecretary")
    page = open_browser(viewport=PHONE)
    open_story(page, story)

    name = page.locator(".comment__name", has_text="HarbourSide")
    box = name.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# Replies and screen readers -------------------------------------------------------------


@pytest.mark.browser
def test_reply_with_javascript_appears_under_the_comment_it_answers(page, story):
    parent = add_discussion(story)
    open_story(page, story)
    thread = page.locator("#comments .comments__list > li").first
    thread.get_by_role("link", name="Reply").click()
    form = page.locator("form[data-comment-form]")
    expect(form.locator("[data-reply-note]")).to_contain_text("Replying to Ruth Adeyemi.")
    expect(form.get_by_label("Comment", exact=True)).to_be_focused()

    post_in_place(page, name="Tom Baines", body="The ferry was late twice this week.")

    assert Comment.objects.get(body__startswith="The ferry was late").parent_id == parent.pk
    expect(thread.locator(".comments__replies .comment__body")).to_have_text(
        [STAFF_REPLY, "The ferry was late twice this week."]
    )
    expect(page.locator("#comments .comments__list > li")).to_have_count(2)


DESCRIPTION = """el => (el.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean)
  .map(id => document.getElementById(id)?.textContent.trim() ?? `(no #${id})`).join(" ")"""


@pytest.mark.browser
def test_comment_fields_are_described_by_their_help_text_and_errors(page, story):
    page.goto(f"/engagement/stories/{story.pk}/comments/new/")
    form = page.locator("form.comment-form")
    form.get_by_label("Comment", exact=True).fill(TEXT)
    form.get_by_role("button", name="Post comment").click()  # no name, no answer
    expect(form.get_by_text("This field is required.")).to_be_visible()
    described = {
        "Your name": form.get_by_label("Your name").evaluate(DESCRIPTION),
        "Email (optional)": form.get_by_label("Email (optional)").evaluate(DESCRIPTION),
    }
    form.get_by_label("Your name").fill("Ruth Adeyemi")
    form.get_by_role("button", name="Post comment").click()  # no answer
    expect(form.get_by_text("Please answer the math question.", exact=True)).to_be_visible()
    described["answer"] = form.get_by_label(QUESTION).evaluate(DESCRIPTION)

    hint = "Solve this simple math problem and enter the result. E.g. for 1+3, enter 4."
    assert described == {
        "Your name": "This field is required.",
        "Email (optional)": "Never shown; only used if the newsroom needs to contact you.",
        "answer": f"Please answer the math question. {hint}",
    }
