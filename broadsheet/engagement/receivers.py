"""Glue from Django's signals to the engagement services; no business logic lives here."""


def ensure_role_after_migrate(sender, **kwargs):
    """Set up the comment moderators' role once migrate has finished.

    post_migrate can reach this app before the permissions of apps listed after it exist
    on a fresh database, so they are created first (create_permissions is idempotent).
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from .services import ensure_moderator_role

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=kwargs.get("using", "default"))
    ensure_moderator_role()
