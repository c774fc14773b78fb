"""The one signal the rest of the site listens to for what readers see of a story.

`story_changed` is sent after the transaction commits, once each time a story is
published (first time or again), unpublished or moved, whoever did it: an editor in the admin,
the scheduler, the wire desk. Apps that keep copies of stories (feeds, caches, the
newsletter's web copies) hook in here, and nowhere else.

    story_changed.send(sender=StoryPage, story=<the StoryPage>, change="published")
    change: "published", "unpublished" or "moved"

Shared pages showing the story have been purged by then (news/cache_keys.py).
"""

from django.dispatch import Signal

story_changed = Signal()

PUBLISHED = "published"
UNPUBLISHED = "unpublished"
MOVED = "moved"
