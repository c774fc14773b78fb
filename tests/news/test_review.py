"""Reporters submit their copy; editors review it, approve it and it is published."""

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.urls import reverse
from wagtail.models import GroupApprovalTask, Page, Workflow, WorkflowPage

from broadsheet.news import services
from broadsheet.news.models import ArticlePage
from tests.news.test_admin import article_form


@pytest.fixture
def newsroom_staff(django_user_model, db):
    groups = services.ensure_newsroom_roles()

    def make(username, role):
        user = django_user_model.objects.create_user(
            username, email=f"{username}@example.org", password="pw", is_staff=True
        )
        user.groups.add(groups[role])
        return user

    return make


@pytest.fixture
def submitted(client, news, newsroom_staff, reporter_author):
    """A reporter's story, submitted for review from the admin."""
    newsroom_staff("ed", services.EDITORS)
    client.force_login(newsroom_staff("rep", services.REPORTERS))
    url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))
    response = client.post(url, {**article_form(reporter_author), "action-submit": "1"})
    assert response.status_code == 302, response.content[:500]
    return ArticlePage.objects.get(slug="harbour-bridge-to-close")


def test_a_reporters_submission_goes_to_the_editors(submitted):
    state = submitted.current_workflow_state

    assert state is not None and state.status == "in_progress"
    task = state.current_task_state.task.specific
    assert task.name == services.REVIEW_TASK
    assert list(task.groups.values_list("name", flat=True)) == [services.EDITORS]
    assert not submitted.live


def test_the_editors_are_told_by_email(submitted):
    told = {address for message in mail.outbox for address in message.to}

    assert "ed@example.org" in told
    assert "rep@example.org" not in told
    message = next(m for m in mail.outbox if "ed@example.org" in m.to)
    assert submitted.title in message.subject + message.body


def test_the_editor_sees_it_on_the_dashboard_and_approves_it_live(client, submitted):
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.get(username="ed")
    client.force_login(editor)
    dashboard = BeautifulSoup(client.get(reverse("wagtailadmin_home")).content, "html.parser")
    awaiting = dashboard.find(string=lambda text: text and "Awaiting your review" in text)
    assert awaiting is not None
    assert submitted.title in awaiting.find_parent("section").get_text()

    edit = client.get(reverse("wagtailadmin_pages:edit", args=(submitted.pk,)))
    assert b"Only reviewers for this task can edit the page" not in edit.content
    task_state = submitted.current_workflow_state.current_task_state
    response = client.post(
        reverse(
            "wagtailadmin_pages:workflow_action",
            args=(submitted.pk, "approve", task_state.pk),
        ),
        {"comment": ""},
    )

    assert response.status_code in (200, 302)
    submitted.refresh_from_db()
    assert submitted.live
    assert submitted.last_updated_at is not None


def test_wagtails_stock_workflow_becomes_the_editors_review_and_stays_so(db):
    services.ensure_newsroom_roles()
    services.ensure_newsroom_roles()  # after every migrate: changes nothing the second time

    root = Page.get_first_root_node()
    workflow = WorkflowPage.objects.get(page=root).workflow
    assert workflow.name == services.REVIEW_WORKFLOW
    assert Workflow.objects.count() == 1
    (task,) = GroupApprovalTask.objects.all()
    assert list(task.groups.values_list("name", flat=True)) == [services.EDITORS]


def test_a_workflow_an_administrator_chose_is_left_in_place(db):
    root = Page.get_first_root_node()
    chosen = Workflow.objects.create(name="Legal check first")
    WorkflowPage.objects.update_or_create(page=root, defaults={"workflow": chosen})

    services.ensure_newsroom_roles()

    assert WorkflowPage.objects.get(page=root).workflow == chosen
