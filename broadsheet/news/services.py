"""Writes and composite reads of the newsroom.

Views, the admin's signal receivers, tasks, commands and the demo seeder all call these
functions, so the demo cannot drift from the product.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Revision,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from broadsheet.core.caching import purge

from .cache_keys import (
    ARCHIVE,
    CORRECTIONS,
    NAV,
    SITEMAPS,
    agency_key,
    author_key,
    listing_key,
    story_key,
    tag_key,
)
from .models import Byline, HomePage, StoryPage, StoryTag
from .signals import MOVED, PUBLISHED, UNPUBLISHED, story_changed

logger = logging.getLogger(__name__)


# Setting up ---------------------------------------------------------------------------


@transaction.atomic
def ensure_home_page(*, site_name: str) -> HomePage:
    """The front page of the default site, created on first run.

    A fresh Wagtail database holds a generic "Welcome" page as the site root; it is
    replaced by the paper's HomePage. Safe to run again: an existing HomePage is kept.
    """
    home = HomePage.objects.first()
    if home is not None:
        return home
    root = Page.get_first_root_node()
    site = Site.objects.filter(is_default_site=True).first()
    welcome = site.root_page if site else None
    home = HomePage(title="Home", slug="front-page")
    root.add_child(instance=home)
    home.save_revision().publish()
    # The site's address starts as BROADSHEET_BASE_URL, where readers reach this install;
    # editors change it in Settings › Sites, and every absolute link follows (paper.py).
    address = urlsplit(settings.WAGTAILADMIN_BASE_URL)
    port = address.port or (443 if address.scheme == "https" else 80)
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={
            "hostname": address.hostname or "localhost",
            "port": port,
            "root_page": home,
            "site_name": site_name,
        },
    )
    if welcome is not None and welcome.specific_class is Page:
        welcome.delete()
    return home


# Publishing ---------------------------------------------------------------------------
#
# One lifecycle, whoever acts: editors publish and unpublish through Wagtail's admin, the
# scheduler through Wagtail's publish_scheduled, the wire desk through the functions
# below, which use the same Wagtail calls. Wagtail's page_published and page_unpublished
# signals then land in record_publication and record_withdrawal (news/receivers.py), and
# those are the only places that send `story_changed`.


@transaction.atomic
def publish_story(*, parent: Page, story: StoryPage, user=None) -> StoryPage:
    """Add `story` under `parent` (a section or a blog) and publish it now.

    If the story has a `go_live_at` in the future it is scheduled instead, exactly as when
    an editor presses "Publish" on a scheduled page in the admin.
    """
    parent.add_child(instance=story)
    # add_child has just validated this very instance; validating it again costs a
    # tenth of a wire item's ingest (bench/wire_ingest.py) and finds nothing new.
    story.save_revision(user=user, clean=False).publish(user=user)
    story.refresh_from_db()
    return story


@transaction.atomic
def draft_story(*, parent: Page, story: StoryPage, user=None) -> StoryPage:
    """Add `story` under `parent` as a draft for an editor to finish: not live."""
    story.live = False
    parent.add_child(instance=story)
    story.save_revision(user=user, clean=False)  # validated by add_child, as above
    story.refresh_from_db()
    return story


@transaction.atomic
def revise_story(*, story: StoryPage, user=None, publish: bool = True, **fields) -> Revision:
    """Save a new revision of `story` with `fields` changed, from its latest revision.

    With `publish`, the revision goes live at once (for a live story) or at the story's
    `go_live_at`; without, it waits as a draft for an editor, the live page unchanged.
    """
    latest = story.get_latest_revision_as_object()
    for name, value in fields.items():
        setattr(latest, name, value)
    revision = latest.save_revision(user=user)
    if publish:
        revision.publish(user=user)
    return revision


@transaction.atomic
def schedule_story(*, story: StoryPage, at: datetime, user=None) -> Revision:
    """Publish the story's latest content at `at` and not before (an embargo).

    Until then it is not live, so nothing readers or machines read can show it.
    """
    latest = story.get_latest_revision_as_object()
    latest.go_live_at = at
    revision = latest.save_revision(user=user)
    revision.publish(user=user)  # with go_live_at ahead, Wagtail schedules rather than publishes
    return revision


@transaction.atomic
def withdraw_story(*, story: StoryPage, user=None) -> None:
    """Take a story down at once, and everything scheduled for it (a kill, a legal order).

    Its page then answers 404 and its scheduled revisions are cancelled, so no later time
    brings it back; it stays in the admin, and an editor can publish it again.
    """
    Revision.page_revisions.filter(
        object_id=str(story.pk), approved_go_live_at__isnull=False
    ).update(approved_go_live_at=None)
    StoryPage.objects.filter(pk=story.pk).update(go_live_at=None)
    if story.live:
        story.unpublish(user=user)  # Wagtail's page_unpublished -> record_withdrawal


def record_publication(*, story: StoryPage) -> None:
    """Move the story's "Last updated" time, unless the editor marked the update minor,
    and tell the rest of the site (`story_changed`) once the change is committed.

    Called each time a story is published, by an editor or by the scheduler. The first
    publication sets it to the publication time, as the reference page shows it. Wagtail
    sends the same signal when a new story is only scheduled: nothing is live yet then, and
    the real publication, later, is recorded instead.
    """
    if not story.live:
        return
    if story.minor_update and story.last_updated_at is not None:
        updated_at = story.last_updated_at
    else:
        updated_at = story.last_published_at or timezone.now()
    StoryPage.objects.filter(pk=story.pk).update(last_updated_at=updated_at, minor_update=False)
    story.last_updated_at = updated_at
    story.minor_update = False
    announce(story=story, change=PUBLISHED)


def record_withdrawal(*, story: StoryPage) -> None:
    """A story went down (unpublished, expired, killed): tell the rest of the site."""
    announce(story=story, change=UNPUBLISHED)


def keys_for_story(story) -> set[str]:
    """Everything a change to `story` can show on: the pages that show it now (its own
    key) and the listings it belongs to where it is now (a new story, a move, a new tag)."""
    keys = {story_key(story.pk), ARCHIVE, CORRECTIONS, SITEMAPS}
    keys.update(listing_key(pk) for pk in story.get_ancestors().values_list("pk", flat=True))
    # From the database, as committed: the story's own managers may hold unsaved copies.
    tags = StoryTag.objects.filter(content_object_id=story.pk).values_list("tag_id", flat=True)
    keys.update(tag_key(pk) for pk in tags)
    authors = Byline.objects.filter(story_id=story.pk).values_list("author_id", flat=True)
    keys.update(author_key(pk) for pk in authors)
    if story.agency_id:
        keys.add(agency_key(story.agency_id))
    return keys


def purge_story(story, *, taken_down: bool = False) -> None:
    purge(*keys_for_story(story), taken_down=taken_down)


def record_move(*, story: StoryPage) -> None:
    """A story moved to another section or blog: its old listings and page go, the new
    ones show it."""
    announce(story=story, change=MOVED)


def announce(*, story: StoryPage, change: str) -> None:
    """Once the change is committed: purge every shared page that shows the story or now
    should (news/cache_keys.py), then tell the rest of the site (`story_changed`)."""

    def after_commit():
        purge_story(story, taken_down=change == UNPUBLISHED)
        story_changed.send(sender=StoryPage, story=story, change=change)

    transaction.on_commit(after_commit)


def record_page_change(*, page: Page) -> None:
    """A section, blog or the front page was published, unpublished or moved: the sections
    menu on every page may name it, so every shared page goes (rare, and cheap to refill)."""
    transaction.on_commit(lambda: purge(NAV))


def backdate_story(
    *, story: StoryPage, published_at: datetime, updated_at: datetime | None = None
) -> None:
    """Record that a story first appeared at `published_at` (imported or demo copy)."""
    updated_at = updated_at or published_at
    StoryPage.objects.filter(pk=story.pk).update(
        first_published_at=published_at,
        last_published_at=updated_at,
        last_updated_at=updated_at,
    )
    story.first_published_at = published_at
    story.last_published_at = story.last_updated_at = updated_at


def schedule_publication_check(*, at: datetime) -> None:
    """Ask the background worker to publish and expire whatever is due at `at`.

    Stock Wagtail publishes scheduled pages only when someone runs `publish_scheduled`
    from cron; here each scheduled time queues a task for that moment, so the worker that
    already runs beside the site does it. The task is idempotent: an extra one is harmless.
    """
    from .tasks import publish_scheduled_task

    if not publish_scheduled_task.get_backend().supports_defer:
        logger.warning(
            "The task backend cannot run tasks later; scheduled stories due at %s need "
            "`manage.py publish_scheduled` run from cron.",
            at.isoformat(),
        )
        return
    publish_scheduled_task.using(run_after=at).enqueue()


# Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledChange:
    """A change to a story that the worker will make at a set time."""

    story: StoryPage
    section: Page  # the section or blog it appears in
    change: str  # "Goes live", "Update goes live" or "Expires"
    at: datetime
    by: object = None  # who scheduled it, when known

    @property
    def overdue(self) -> bool:
        return self.at <= timezone.now()


def scheduled_changes() -> list[ScheduledChange]:
    """Stories waiting to go live (new or updated) or to expire, soonest first.

    A go-live still listed after its time means the worker has not run: shown as overdue
    rather than hidden, so editors notice.
    """
    revisions = {
        int(revision.object_id): revision
        for revision in Revision.page_revisions.filter(
            approved_go_live_at__isnull=False
        ).select_related("user")
    }
    stories = list(
        StoryPage.objects.filter(Q(pk__in=revisions) | Q(live=True, expire_at__isnull=False))
    )
    parents = {
        page.path: page
        for page in Page.objects.filter(path__in={s.path[: -Page.steplen] for s in stories})
    }
    changes = []
    for story in stories:
        section = parents[story.path[: -Page.steplen]]
        if revision := revisions.get(story.pk):
            change = "Update goes live" if story.live else "Goes live"
            changes.append(
                ScheduledChange(story, section, change, revision.approved_go_live_at, revision.user)
            )
        if story.live and story.expire_at:
            changes.append(ScheduledChange(story, section, "Expires", story.expire_at))
    return sorted(changes, key=lambda change: (change.at, change.story.pk))


# Roles --------------------------------------------------------------------------------

REPORTERS = "Reporters"
EDITORS = "Editors"

ROLE_PAGE_PERMISSIONS = {
    REPORTERS: ["add_page", "change_page"],
    EDITORS: ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"],
}
ROLE_IMAGE_PERMISSIONS = {
    REPORTERS: ["add_photo", "choose_image"],
    EDITORS: ["add_photo", "change_photo", "choose_image", "delete_photo"],
}
ROLE_MODEL_PERMISSIONS = {
    REPORTERS: ["access_admin", "view_author", "view_agency"],
    EDITORS: [
        "access_admin",
        "add_author",
        "change_author",
        "view_author",
        "add_agency",
        "change_agency",
        "view_agency",
        "add_redirect",
        "change_redirect",
        "delete_redirect",
    ],
}


def ensure_newsroom_roles() -> dict[str, Group]:
    """Create the newsroom's roles, or bring them back to their documented permissions.

    Reporters write and submit drafts but cannot publish; editors publish, schedule,
    unpublish and manage authors and agencies. Safe to run any number of times.
    """
    root_page = Page.get_first_root_node()
    root_collection = Collection.get_first_root_node()
    if root_page is None or root_collection is None:
        return {}
    groups = {}
    for role in (REPORTERS, EDITORS):
        group, _ = Group.objects.get_or_create(name=role)
        groups[role] = group
        group.permissions.add(*Permission.objects.filter(codename__in=ROLE_MODEL_PERMISSIONS[role]))
        for codename in ROLE_PAGE_PERMISSIONS[role]:
            GroupPagePermission.objects.get_or_create(
                group=group,
                page=root_page,
                permission=Permission.objects.get(
                    content_type__app_label="wagtailcore", codename=codename
                ),
            )
        for codename in ROLE_IMAGE_PERMISSIONS[role]:
            GroupCollectionPermission.objects.get_or_create(
                group=group,
                collection=root_collection,
                permission=Permission.objects.get(
                    content_type__app_label="news", codename=codename
                ),
            )
    ensure_review_workflow(editors=groups[EDITORS])
    return groups


REVIEW_WORKFLOW = "Editors' review"
REVIEW_TASK = "Editor approval"
# What Wagtail's first migration creates, with its own "Moderators" group as reviewers.
STOCK_WORKFLOW = STOCK_TASK = "Moderators approval"


def ensure_review_workflow(*, editors: Group) -> Workflow:
    """Reporters submit their copy to the Editors, who approve and publish it.

    Wagtail starts every site with a "Moderators approval" workflow whose reviewers are a
    "Moderators" group the newsroom does not use: a reporter's submission would wait for
    nobody. That workflow becomes the Editors' review (same objects, so anything already
    submitted can now be approved); a site without a workflow gets one. A workflow an
    administrator chose later is left alone, with the Editors added to its first task if
    it is a group approval.
    """
    root = Page.get_first_root_node()
    assignment = WorkflowPage.objects.filter(page=root).select_related("workflow").first()
    workflow = assignment.workflow if assignment else None
    if workflow is None:
        workflow = Workflow.objects.create(name=REVIEW_WORKFLOW)
        WorkflowPage.objects.create(page=root, workflow=workflow)
    elif workflow.name == STOCK_WORKFLOW:
        workflow.name = REVIEW_WORKFLOW
        workflow.save(update_fields=["name"])
    first = workflow.workflow_tasks.order_by("sort_order").select_related("task").first()
    task = GroupApprovalTask.objects.filter(pk=first.task_id).first() if first else None
    if task is None and first is None:
        task = GroupApprovalTask.objects.create(name=REVIEW_TASK)
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    if task is not None:
        if task.name == STOCK_TASK:
            task.name = REVIEW_TASK
            task.save(update_fields=["name"])
            task.groups.set([editors])  # not Wagtail's empty "Moderators" any more
        task.groups.add(editors)
    return workflow
