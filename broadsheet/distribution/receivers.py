"""What the feeds hear from the newsroom: stories going up and down (`story_changed`)."""

import logging

from django.conf import settings
from django.dispatch import receiver

from broadsheet.news.signals import story_changed

from .tasks import announce_story_task

logger = logging.getLogger(__name__)


@receiver(story_changed)
def announce_to_hub(sender, story, change, **kwargs):
    """Queue the WebSub notice for the story's feeds, when the feeds name a hub.

    Sent after the commit, so the worker reads the story as readers now see it. Queueing
    failing (the task database down) is logged: the story is published all the same.
    """
    if not settings.BROADSHEET_WEBSUB_HUB:
        return
    try:
        announce_story_task.enqueue(story.pk, change)
    except Exception:
        logger.exception("The WebSub notice for story %s could not be queued", story.pk)
