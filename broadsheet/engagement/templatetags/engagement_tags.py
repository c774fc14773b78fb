"""Votes and comments on story pages and listings, without the news app importing us."""

from itertools import chain

from django import template

from broadsheet.core.caching import shows

from .. import services
from ..forms import CommentForm

register = template.Library()


@register.inclusion_tag("engagement/votes.html")
def story_votes(story):
    """The rating form and the tally as of this render (the page script refreshes it)."""
    return {
        "story": story,
        "tally": services.tally_for(story.pk),
        "open": services.votes_open(story),
    }


@register.inclusion_tag("engagement/comments.html", takes_context=True)
def story_comments(context, story):
    threads, count = services.published_comments(story.pk)
    shows(services.comments_key(story.pk))
    return {
        "story": story,
        "threads": threads,
        "count": count,
        "open": services.comments_open(story),
        "request": context.get("request"),
        "blank_form": CommentForm(story_id=story.pk, auto_id="id_%s"),
    }


@register.simple_tag
def comment_counts(*lists_of_stories):
    """Published comment counts for every story in the lists, in one query: {story_id: n}."""
    return services.comment_counts({story.pk for story in chain.from_iterable(lists_of_stories)})


@register.filter
def count_for(counts, story):
    return (counts or {}).get(getattr(story, "pk", None), 0)
