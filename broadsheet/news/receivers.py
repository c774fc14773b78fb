"""Glue from Wagtail's signals to the news services; no business logic lives here."""

from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction, Revision, Site
from wagtail.signals import page_published, page_unpublished, post_page_move


def on_page_published(sender, instance, **kwargs):
    from .models import StoryPage
    from .services import record_page_change, record_publication

    if isinstance(instance, StoryPage):
        record_publication(story=instance)
    else:
        record_page_change(page=instance)


def on_page_unpublished(sender, instance, **kwargs):
    from .models import StoryPage
    from .services import record_page_change, record_withdrawal

    if isinstance(instance, StoryPage):
        record_withdrawal(story=instance)
    else:
        record_page_change(page=instance)


def on_page_moved(sender, instance, **kwargs):
    from .models import StoryPage
    from .services import record_move, record_page_change

    page = instance.specific_deferred
    if isinstance(page, StoryPage):
        if page.live:
            record_move(story=page)
    else:
        record_page_change(page=page)


def on_byline_owner_saved(sender, instance, **kwargs):
    """An author or agency renamed: every page printing the name, and their listing.

    Authors and agencies are snippets, edited in place with no publishing step of their
    own, so their save is the moment to purge."""
    from django.db import transaction

    from broadsheet.core.caching import purge

    from .cache_keys import agency_key, author_key
    from .models import Author

    key = author_key(instance.pk) if isinstance(instance, Author) else agency_key(instance.pk)
    transaction.on_commit(lambda: purge(key))


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


def on_site_saved(sender, instance, **kwargs):
    """A site's address, name or root changed (Settings › Sites): every shared page names
    it in its masthead or links, so all go (news/views.py keeps the site between requests)."""
    from django.db import transaction

    from broadsheet.core.caching import purge

    from .cache_keys import NAV

    transaction.on_commit(lambda: purge(NAV))


def on_view_restriction_changed(sender, instance, **kwargs):
    """A page (and everything under it) now needs a password or a sign-in, or no longer
    does: shared copies of any of it must go, and which pages listed it is not known."""
    from django.db import transaction

    from broadsheet.core.caching import purge

    from .cache_keys import NAV

    transaction.on_commit(lambda: purge(NAV, taken_down=True))


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
    post_page_move.connect(on_page_moved, dispatch_uid="news.record_move")
    from .models import Agency, Author

    post_save.connect(on_site_saved, sender=Site, dispatch_uid="news.purge_site")
    for signal in (post_save, post_delete):
        signal.connect(
            on_view_restriction_changed,
            sender=PageViewRestriction,
            dispatch_uid=f"news.purge_restriction_{signal is post_save}",
        )
    for model in (Author, Agency):
        post_save.connect(on_byline_owner_saved, sender=model, dispatch_uid=f"news.purge_{model}")
    post_save.connect(on_revision_saved, sender=Revision, dispatch_uid="news.revision_schedule")
    post_save.connect(on_page_saved, dispatch_uid="news.page_expiry")
