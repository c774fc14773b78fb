from django_tasks import task

from . import websub


@task()
def announce_story_task(story_id: int, change: str) -> int:
    """Tell the WebSub hub about the feeds that list a story that was published, updated
    or withdrawn (`websub.announce_story`). Safe to run twice: a second notice only makes
    the hub fetch the feeds again."""
    return websub.announce_story(story_id=story_id, change=change)
