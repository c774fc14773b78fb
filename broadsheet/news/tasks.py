from django.core.management import call_command
from django_tasks import task


@task()
def publish_scheduled_task() -> None:
    """Publish stories whose time has come and unpublish expired ones.

    Runs Wagtail's own `publish_scheduled` command rather than a copy of its logic, so
    logging, revisions and signals behave exactly as when an editor publishes. Safe to
    run twice: a second run finds nothing due.
    """
    call_command("publish_scheduled", verbosity=0)
