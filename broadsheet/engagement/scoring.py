"""Spam scoring for comments: several scorers, each returning a score from 0 to 1.

Scorers are named by dotted path in BROADSHEET_COMMENT_SCORERS, like Django's backends, so
an outside service can be added by settings alone (see HttpScorer). Scoring fails closed:
a scorer that raises or times out makes the verdict "failed", and a failed verdict holds
the comment for a moderator. It is never published unchecked and never lost.
"""

import json
import logging
import re
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

LINK = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Draft:
    """A comment before it is saved: what the scorers look at."""

    story_id: int
    name: str
    email: str
    body: str
    address: str
    reader: str


@dataclass
class Verdict:
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    failed: bool = False

    def add(self, score: float, reason: str) -> None:
        if score > 0:
            self.score = min(1.0, self.score + score)
            self.reasons.append(reason)


class LinkScorer:
    """Links are the point of most spam: one is normal, several are suspicious."""

    def score(self, draft: Draft) -> Verdict:
        verdict = Verdict()
        links = len(LINK.findall(draft.body))
        if links >= 2:
            verdict.add(min(1.0, 0.3 * links), f"{links} links")
        elif links == 1 and len(draft.body) < 60:
            verdict.add(0.3, "a link with little text")
        return verdict


class MarkupScorer:
    """Markup in a comment: readers write plain text, and the page shows it escaped.

    Someone pasting HTML or BBCode links into a comment box is nearly always a spammer or
    someone probing the site; script, frames, event handlers and `javascript:` links are
    never innocent.
    """

    ACTIVE = re.compile(
        r"<\s*/?\s*(script|iframe|frame|object|embed|svg|math|form|meta|link|style|base)\b"
        r"|<[^>]*\bon[a-z]+\s*="  # an event handler inside a tag
        r"|\b(javascript|vbscript):\S"  # a script URL (prose puts a space after the colon)
        r"|\bdata:\s*text/html",
        re.IGNORECASE,
    )
    TAG = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*(\s+[^<>]*)?/?\s*>|\[/?(url|link|img)\b", re.I)

    def score(self, draft: Draft) -> Verdict:
        verdict = Verdict()
        text = f"{draft.name} {draft.body}"
        if self.ACTIVE.search(text):
            verdict.add(0.9, "script or active markup")
        elif self.TAG.search(text):
            verdict.add(0.5, "HTML or BBCode markup")
        return verdict


class RepetitionScorer:
    """The same text posted again, or a body that repeats itself."""

    def score(self, draft: Draft) -> Verdict:
        from .models import Comment

        verdict = Verdict()
        words = draft.body.lower().split()
        if len(words) >= 8 and len(set(words)) / len(words) < 0.3:
            verdict.add(0.5, "repetitive text")
        since = timezone.now() - timedelta(days=1)
        if Comment.objects.filter(body=draft.body, created_at__gte=since).exists():
            verdict.add(0.6, "already posted")
        return verdict


class BlockedTermScorer:
    def score(self, draft: Draft) -> Verdict:
        from .models import BlockedTerm

        verdict = Verdict()
        text = f"{draft.name} {draft.body}".lower()
        for term, weight in BlockedTerm.objects.values_list("term", "weight"):
            if re.search(rf"\b{re.escape(term.lower())}\b", text):
                verdict.add(weight, f"blocked term '{term}'")
        return verdict


class BlockedAddressScorer:
    """Known bad IP addresses, email addresses and email domains (@example.com)."""

    def score(self, draft: Draft) -> Verdict:
        from .models import BlockedAddress

        verdict = Verdict()
        email = draft.email.lower()
        domain = email.partition("@")[2]
        candidates = {draft.address, email, f"@{domain}"} - {"", "@"}
        if BlockedAddress.objects.filter(pattern__in=candidates).exists():
            verdict.add(1.0, "blocked address")
        return verdict


class HttpScorer:
    """An outside spam service: POSTs the draft as JSON, expects {"score": 0..1, "reason"}.

    Configure with BROADSHEET_SPAM_SERVICE_URL; errors and slow answers fail closed.
    """

    def score(self, draft: Draft) -> Verdict:
        url = settings.BROADSHEET_SPAM_SERVICE_URL
        payload = json.dumps(
            {
                "name": draft.name,
                "email": draft.email,
                "body": draft.body,
                "address": draft.address,
            }
        ).encode()
        request = urllib.request.Request(
            url, data=payload, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=settings.BROADSHEET_SCORING_TIMEOUT) as r:
            answer = json.load(r)
        verdict = Verdict()
        verdict.add(float(answer["score"]), str(answer.get("reason", "spam service")))
        return verdict


@cache
def _scorers(paths: tuple[str, ...]):
    return [import_string(path)() for path in paths]


def score_comment(draft: Draft) -> Verdict:
    """Run every configured scorer; any error (a time-out included) makes it failed.

    Scorers that call out bound their own time (HttpScorer passes a socket timeout), so a
    stuck service costs a reader at most BROADSHEET_SCORING_TIMEOUT seconds.
    """
    total = Verdict()
    for scorer in _scorers(tuple(settings.BROADSHEET_COMMENT_SCORERS)):
        name = type(scorer).__name__
        try:
            verdict = scorer.score(draft)
        except Exception:
            logger.exception("Comment scorer %s failed; holding the comment", name)
            total.failed = True
            total.reasons.append(f"{name} failed")
            continue
        total.add(verdict.score, "; ".join(verdict.reasons))
    return total
