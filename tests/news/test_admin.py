"""Editors and reporters at work in the Wagtail admin."""

from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from broadsheet.news import services
from broadsheet.news.forms import NO_BYLINE
from broadsheet.news.models import ArticlePage


@pytest.fixture
def staff(django_user_model, db):
    groups = services.ensure_newsroom_roles()

    def make(username, role):
        user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
        user.groups.add(groups[role])
        return user

    return make


def article_form(reporter_author, **overrides):
    data = {
        "title": "Harbour bridge to close for repairs",
        "slug": "harbour-bridge-to-close",
        "standfirst": "The bridge will shut for six weeks from March.",
        "dateline": "Northgate",
        "bylines": inline_formset([{"author": reporter_author.pk}]),
        "body": streamfield(
            [
                ("paragraph", rich_text("<p>Engineers found corrosion in the deck.</p>")),
                ("crosshead", "'No other choice'"),
            ]
        ),
        "corrections": inline_formset([]),
        "tags": "bridges, transport",
        "comments_open": "on",
        "votes_open": "on",
        "comments": inline_formset([]),
    }
    data.update(overrides)
    return nested_form_data(data)


def test_editor_publishes_a_story_from_the_admin(client, news, staff, reporter_author):
    client.force_login(staff("ed", services.EDITORS))
    url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))

    response = client.post(url, {**article_form(reporter_author), "action-publish": "publish"})

    assert response.status_code == 302, response.content[:2000]
    story = ArticlePage.objects.get(slug="harbour-bridge-to-close")
    assert story.live
    assert story.last_updated_at == story.first_published_at
    assert client.get(story.url).status_code == 200


def test_reporter_publish_attempt_leaves_a_draft(client, news, staff, reporter_author):
    client.force_login(staff("rep", services.REPORTERS))
    url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))

    client.post(url, {**article_form(reporter_author), "action-publish": "publish"})

    story = ArticlePage.objects.get(slug="harbour-bridge-to-close")
    assert not story.live
    assert client.get("/news/harbour-bridge-to-close/").status_code == 404


def test_editor_marks_an_update_minor_in_the_admin(client, news, staff, reporter_author):
    client.force_login(staff("ed", services.EDITORS))
    add = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))
    client.post(add, {**article_form(reporter_author), "action-publish": "publish"})
    story = ArticlePage.objects.get(slug="harbour-bridge-to-close")
    edit = reverse("wagtailadmin_pages:edit", args=(story.pk,))

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        client.post(
            edit,
            {
                **article_form(
                    reporter_author,
                    standfirst="The bridge will shut for six weeks.",
                    minor_update="on",
                ),
                "action-publish": "publish",
            },
        )
    after_minor = ArticlePage.objects.get(pk=story.pk)
    with time_machine.travel(timezone.now() + timedelta(hours=4)):
        client.post(
            edit,
            {
                **article_form(reporter_author, standfirst="The bridge will now shut in April."),
                "action-publish": "publish",
            },
        )
    after_substantive = ArticlePage.objects.get(pk=story.pk)

    assert after_minor.standfirst == "The bridge will shut for six weeks."
    assert after_minor.last_updated_at == story.last_updated_at
    assert after_substantive.last_updated_at > story.last_updated_at + timedelta(hours=3)


def test_editor_schedules_a_story_from_the_admin(client, news, staff, reporter_author):
    client.force_login(staff("ed", services.EDITORS))
    url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))
    go_live = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")

    client.post(
        url, {**article_form(reporter_author, go_live_at=go_live), "action-publish": "publish"}
    )

    story = ArticlePage.objects.get(slug="harbour-bridge-to-close")
    assert not story.live
    assert story.go_live_at is not None


def test_newsroom_snippets_are_in_the_admin(client, staff):
    client.force_login(staff("ed", services.EDITORS))

    for model in ("author", "agency"):
        response = client.get(reverse(f"wagtailsnippets_news_{model}:list"))
        assert response.status_code == 200


# The first press of Publish --------------------------------------------------------------


def add_url(section):
    return reverse("wagtailadmin_pages:add", args=("news", "articlepage", section.pk))


def test_a_story_without_a_byline_is_not_published_and_the_form_says_why(
    client, news, staff, reporter_author
):
    client.force_login(staff("ed", services.EDITORS))

    response = client.post(
        add_url(news),
        {**article_form(reporter_author, bylines=inline_formset([])), "action-publish": "1"},
    )

    assert response.status_code == 200
    assert NO_BYLINE in response.content.decode().replace("&#x27;", "'")
    assert not ArticlePage.objects.exists()


def test_a_draft_may_be_saved_without_a_byline(client, news, staff, reporter_author):
    client.force_login(staff("rep", services.REPORTERS))

    client.post(add_url(news), article_form(reporter_author, bylines=inline_formset([])))

    assert ArticlePage.objects.get().live is False


def test_an_agency_alone_is_a_byline(client, news, staff, reporter_author, agency):
    client.force_login(staff("ed", services.EDITORS))

    client.post(
        add_url(news),
        {
            **article_form(reporter_author, bylines=inline_formset([]), agency=agency.pk),
            "action-publish": "1",
        },
    )

    assert ArticlePage.objects.get().live


def test_a_new_story_publishes_at_the_first_press_though_a_draft_holds_its_slug(
    client, news, staff, reporter_author
):
    client.force_login(staff("ed", services.EDITORS))
    # Someone started the same story and walked away: their draft holds the address.
    client.post(add_url(news), article_form(reporter_author))
    abandoned = ArticlePage.objects.get()

    response = client.post(add_url(news), {**article_form(reporter_author), "action-publish": "1"})

    assert response.status_code == 302
    story = ArticlePage.objects.exclude(pk=abandoned.pk).get()
    assert story.live
    assert story.slug == "harbour-bridge-to-close-2"


def test_a_live_storys_address_is_never_changed_behind_the_editors_back(
    client, news, staff, reporter_author, make_article
):
    client.force_login(staff("ed", services.EDITORS))
    make_article(title="Harbour bridge to close", slug="taken")
    story = make_article(title="Ferry fares rise", slug="ferry-fares")

    response = client.post(
        reverse("wagtailadmin_pages:edit", args=(story.pk,)),
        {**article_form(reporter_author, slug="taken"), "action-publish": "1"},
    )

    assert response.status_code == 200
    assert "The slug &#x27;taken&#x27; is already in use" in response.content.decode()
    story.refresh_from_db()
    assert story.slug == "ferry-fares"


def test_a_story_page_never_prints_an_empty_byline(client, news, make_article):
    story = make_article(title="Weather warning for the coast")
    story.bylines.all().delete()
    ArticlePage.objects.filter(pk=story.pk).update(agency=None)

    byline = BeautifulSoup(client.get(story.url).content, "html.parser").select_one(
        ".story__byline"
    )

    assert not byline.get_text().strip().startswith("By")
    assert "By -" not in " ".join(byline.get_text().split())


def test_a_blog_post_without_an_author_says_so_above_its_authors(
    client, blog, staff, reporter_author
):
    client.force_login(staff("ed", services.EDITORS))
    url = reverse("wagtailadmin_pages:add", args=("news", "blogpostpage", blog.pk))
    form = article_form(reporter_author, bylines=inline_formset([]))

    response = client.post(url, {**form, "action-publish": "1"})

    assert response.status_code == 200
    assert response.context["form"].formsets["bylines"].non_form_errors() == [NO_BYLINE]
    soup = BeautifulSoup(response.content, "html.parser")
    management = soup.select_one("#id_bylines-TOTAL_FORMS")
    assert management.find_next("div", class_="error-message").get_text(strip=True) == NO_BYLINE


def test_the_agency_chooser_names_agencies_in_full(client, staff, agency):
    client.force_login(staff("ed", services.EDITORS))

    response = client.get(reverse("wagtailsnippetchoosers_news_agency:choose"))

    assert "Continental Press Agency (CPA)" in response.json()["html"]


# A story's language -------------------------------------------------------------------


def test_an_articles_language_is_set_in_the_byline_panel_beside_the_dateline(client, news, staff):
    client.force_login(staff("ed", services.EDITORS))

    response = client.get(add_url(news))

    soup = BeautifulSoup(response.content, "html.parser")
    dateline = soup.select_one("#id_dateline")
    language = soup.select_one("#id_language")
    assert language is not None
    assert dateline.find_next("input", id="id_language") is language
    panel = language.find_parent("section")
    assert "Byline" in panel.find(["h2", "h3"]).get_text()


def test_a_blog_posts_language_is_set_under_its_authors(client, blog, staff):
    client.force_login(staff("ed", services.EDITORS))

    response = client.get(reverse("wagtailadmin_pages:add", args=("news", "blogpostpage", blog.pk)))

    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("#id_bylines-TOTAL_FORMS").find_next("input", id="id_language")


def test_an_editor_publishes_an_arabic_story_its_language_stored_in_lower_case(
    client, news, staff, reporter_author
):
    client.force_login(staff("ed", services.EDITORS))

    response = client.post(
        add_url(news), {**article_form(reporter_author, language="AR"), "action-publish": "1"}
    )

    assert response.status_code == 302
    assert ArticlePage.objects.get().language == "ar"


def test_a_language_that_is_not_a_code_is_refused_by_the_form_with_a_reason(
    client, news, staff, reporter_author
):
    client.force_login(staff("ed", services.EDITORS))

    response = client.post(
        add_url(news), {**article_form(reporter_author, language="Arabic"), "action-publish": "1"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["language"] == [
        "“Arabic” is not a language code: use one like 'ar', 'fr' or 'pt-br' (BCP 47)."
    ]
    field = BeautifulSoup(response.content, "html.parser").select_one("#id_language")
    shown = field.find_parent(class_="w-field").select_one(".error-message").get_text()
    assert "“Arabic” is not a language code" in shown
    assert field["value"] == "Arabic"  # kept, to be put right
    assert not ArticlePage.objects.exists()
