"""Glue from Django's signals to the wire desk; no business logic lives here."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import WireSource
from .polling import schedule_polling


@receiver(post_save, sender=WireSource)
def start_polling(sender, instance, **kwargs):
    """A new or changed source is looked at now, and then on its own interval."""
    if instance.active:
        transaction.on_commit(lambda: schedule_polling(instance))
