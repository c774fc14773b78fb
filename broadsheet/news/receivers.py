"""Glue from Wagtail's signals to the news services; no business logic lives here."""

from django.db.models.signals import post_save
from django.utils import timezone
from wagtail.models import Page, Revision
from wagtail.signals import page_published, page_unpublished


def on_page_published(sender, instance, **kwargs):
    from .models import StoryPage
    from .services import record_publication

    if isinstance(instance, StoryPage):
        record_publication(story=instance)


def on_page_unpublished(sender, instance, **kwargs):
    from .models import StoryPage
    from .services import record_withdrawal

    if isinstance(instance, StoryPage):
        record_withdrawal(story=instance)


def on_revision_saved(sender, instance, **kwargs):
    from .services import schedule_publication_check

    if instance.approved_go_live_at and instance.approved_go_live_at > timezone.now():
        schedule_publication_check(at=instance.approved_go_live_at)


def on_page_saved(sender, instance, **kwargs):
    from .services import schedule_publication_check

    if not isinstance(instance, Page) or not (instance.live and instance.expire_at):
        return
    if instance.expire_at > timezone.now():
        schedule_publication_check(at=instance.expire_at)


def ensure_roles_after_migrate(sender, **kwargs):
    """Set up the newsroom's roles once migrate has finished.

    post_migrate reaches this app before Wagtail's own permissions exist on a fresh
    database, so they are created first (Django's create_permissions is idempotent).
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from .services import ensure_newsroom_roles

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=kwargs.get("using", "default"))
    ensure_newsroom_roles()


def connect():
    page_published.connect(on_page_published, dispatch_uid="news.record_publication")
    page_unpublished.connect(on_page_unpublished, dispatch_uid="news.record_withdrawal")
    post_save.connect(on_revision_saved, sender=Revision, dispatch_uid="news.revision_schedule")
    post_save.connect(on_page_saved, dispatch_uid="news.page_expiry")
