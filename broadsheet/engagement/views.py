"""The small endpoints behind votes and comments.

Article pages are served from a shared cache, so they carry nothing per reader: no CSRF
token, no challenge, no "you voted 4". Those come from `story_state`, and the forms post
to endpoints that work without it. The POST endpoints are exempt from Django's CSRF token
(a cached page cannot carry one) and check the Origin header instead; comments are also
bound to a single-use signed challenge, and every write is rate limited.
"""

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from wagtail.models import Site

from broadsheet.core.errors import BroadsheetError
from broadsheet.core.http import reply, same_origin
from broadsheet.news.models import StoryPage

from . import readers, services
from .challenge import issue_challenge
from .forms import CommentForm, VoteForm
from .models import Comment
from .readers import RateLimited

MAX_ID = 2**31 - 1  # larger numbers overflow PostgreSQL's integer columns


def live_story(request, story_id: int, *fields: str) -> StoryPage:
    """The story, as a StoryPage row, if the request's readers may see it (live, public,
    of this site); the specific page class is never needed here.

    Hot endpoints name the `fields` they use: loading a whole article page to check one
    flag took over a third of a vote's time under load.
    """
    if story_id > MAX_ID:
        raise Http404("No such story.")
    stories = StoryPage.objects.for_readers(Site.find_for_request(request))
    if fields:
        stories = stories.only(*fields)
    return get_object_or_404(stories, pk=story_id)


def refuse(request, status, message, *, context=None):
    return reply(
        request,
        status=status,
        json={"error": message},
        template="engagement/message.html",
        context={"message": message, **(context or {})},
    )


def with_reader(request, response, reader, is_new):
    if is_new:
        readers.remember_reader(request, response, reader)
    response["Cache-Control"] = "private, no-store"
    return response


def tally_json(tally):
    return {"count": tally.count, "average": tally.average, "text": tally.text}


@never_cache
@require_GET
def story_state(request, story_id):
    """What the cached article page cannot hold: fresh tally, your vote, a challenge."""
    story = live_story(request, story_id)
    reader, is_new = readers.reader_from(request)
    comments_open = services.comments_open(story)
    data = {
        "votes": tally_json(services.tally_for(story.pk)),
        "votes_open": services.votes_open(story),
        "your_vote": None if is_new else services.reader_vote(story_id=story.pk, reader=reader),
        "comments_open": comments_open,
    }
    if comments_open:
        challenge = issue_challenge(story_id=story.pk)
        data["challenge"] = {"token": challenge.token, "question": challenge.question}
    return with_reader(request, JsonResponse(data), reader, is_new)


@csrf_exempt
@require_POST
def vote(request, story_id):
    if not same_origin(request):
        return refuse(request, 403, "Votes must be sent from this site's own pages.")
    story = live_story(request, story_id, "live", "votes_open")
    reader, is_new = readers.reader_from(request)
    form = VoteForm(request.POST)
    if not form.is_valid():
        return with_reader(
            request,
            refuse(request, 400, form.errors["stars"][0], context={"story": story}),
            reader,
            is_new,
        )
    try:
        tally = services.cast_vote(
            story=story,
            reader=reader,
            stars=form.cleaned_data["stars"],
            address=readers.client_address(request),
        )
    except RateLimited as exc:
        return refuse(request, 429, exc.message, context={"story": story})
    except BroadsheetError as exc:
        return refuse(request, 403, exc.message, context={"story": story})
    stars = form.cleaned_data["stars"]
    response = reply(
        request,
        json={"votes": tally_json(tally), "your_vote": stars},
        template="engagement/vote_done.html",
        context={"story": story, "tally": tally, "stars": stars},
    )
    return with_reader(request, response, reader, is_new)


def comment_form_context(story, form, *, message=""):
    challenge = issue_challenge(story_id=story.pk)
    form.data = form.data.copy() if form.is_bound else form.data
    if form.is_bound:
        # The reader's text is kept; only the used challenge is replaced.
        form.data["challenge_token"] = challenge.token
        form.data["challenge_answer"] = ""
    else:
        form.initial["challenge_token"] = challenge.token
    return {"story": story, "form": form, "challenge": challenge, "message": message}


@never_cache
@require_GET
def comment_form(request, story_id):
    """The comment form as a page of its own: the path for readers without JavaScript."""
    story = live_story(request, story_id)
    if not services.comments_open(story):
        return refuse(request, 403, "Comments are closed on this story.", context={"story": story})
    form = CommentForm(story_id=story.pk, initial={"parent": request.GET.get("reply_to")})
    if not str(request.GET.get("reply_to", "")).isdigit():
        form.initial.pop("parent")
    return render(request, "engagement/comment_form_page.html", comment_form_context(story, form))


@csrf_exempt
@require_POST
def post_comment(request, story_id):
    if not same_origin(request):
        return refuse(request, 403, "Comments must be sent from this site's own pages.")
    story = live_story(request, story_id)
    reader, is_new = readers.reader_from(request)
    form = CommentForm(request.POST, story_id=story.pk)

    def form_again(status, message=""):
        context = comment_form_context(story, form, message=message)
        response = reply(
            request,
            status=status,
            json={
                "error": message or "Please check the form.",
                "errors": {field: list(errors) for field, errors in form.errors.items()},
                "challenge": {
                    "token": context["challenge"].token,
                    "question": context["challenge"].question,
                },
            },
            template="engagement/comment_form_page.html",
            context=context,
        )
        return with_reader(request, response, reader, is_new)

    if not form.is_valid():
        return form_again(400)
    data = form.cleaned_data
    parent = None
    if data.get("parent"):
        parent = Comment.objects.filter(pk=min(data["parent"], MAX_ID)).first()
        if parent is None:
            form.add_error(None, "The comment you replied to no longer exists.")
            return form_again(400)
    try:
        comment = services.post_comment(
            story=story,
            name=data["name"],
            email=data["email"],
            body=data["body"],
            reader=reader,
            address=readers.client_address(request),
            parent=parent,
            user=request.user,
            honeypot_filled=bool(data.get("website")),
        )
    except RateLimited as exc:
        return form_again(429, exc.message)
    except BroadsheetError as exc:
        return form_again(403, exc.message)
    published = comment.status == Comment.Status.PUBLISHED
    message = (
        "Thank you: your comment is published."
        if published
        else "Thank you: your comment will appear once a moderator has read it."
    )
    response = reply(
        request,
        status=201,
        json=lambda: {
            "status": comment.status,
            "message": message,
            # Rendered without the request: the site-wide context processors (a site and
            # sections lookup) cost a sixth of a comment post under load.
            "html": render_to_string("engagement/comment.html", {"comment": comment, "open": True})
            if published
            else "",
        },
        template="engagement/comment_done.html",
        context={"story": story, "message": message},
    )
    return with_reader(request, response, reader, is_new)


@csrf_exempt
@require_POST
def flag_comment(request, comment_id):
    if not same_origin(request):
        return refuse(request, 403, "Reports must be sent from this site's own pages.")
    comment = Comment.objects.filter(
        pk=min(comment_id, MAX_ID), status=Comment.Status.PUBLISHED
    ).first()
    if comment is None:
        raise Http404("No such comment.")
    reader, is_new = readers.reader_from(request)
    try:
        services.flag_comment(
            comment=comment, reader=reader, address=readers.client_address(request)
        )
    except RateLimited as exc:
        return refuse(request, 429, exc.message)
    message = "Thank you: the moderators will look at this comment."
    response = reply(
        request,
        json={"message": message},
        template="engagement/message.html",
        context=lambda: {
            "message": message,
            "story": StoryPage.objects.filter(pk=comment.story_id).first(),
        },
    )
    return with_reader(request, response, reader, is_new)
