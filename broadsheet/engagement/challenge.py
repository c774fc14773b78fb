"""The math challenge on the comment form: "2 + 10 =".

A challenge is a signed token naming the story, the two numbers, a nonce and when it was
issued. It is valid once (its nonce is recorded when answered), for a limited time, only
for the story it was issued for, and not before a reader could have typed a comment.
Signing keeps the server stateless until an answer arrives, so the article page itself can
be cached: the token comes from a small endpoint, never from the cached HTML.
"""

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from broadsheet.core.errors import BroadsheetError

SALT = "broadsheet.engagement.challenge"


class ChallengeFailed(BroadsheetError):
    """The answer is wrong, late, early, replayed, or for another page."""


@dataclass(frozen=True)
class Challenge:
    first: int
    second: int
    token: str

    @property
    def question(self) -> str:
        return f"{self.first} + {self.second} ="


def issue_challenge(*, story_id: int) -> Challenge:
    first, second = secrets.randbelow(10) + 1, secrets.randbelow(10) + 1
    token = signing.dumps(
        {"s": story_id, "a": first, "b": second, "n": secrets.token_hex(16), "t": time.time()},
        salt=SALT,
        compress=True,
    )
    return Challenge(first=first, second=second, token=token)


def check_answer(*, token: str, answer: str, story_id: int) -> None:
    """Accept a right, timely answer once; raise ChallengeFailed with the reason otherwise."""
    from .models import UsedChallenge

    try:
        data = signing.loads(token or "", salt=SALT)
        first, second, nonce = int(data["a"]), int(data["b"]), str(data["n"])
        issued, story = float(data["t"]), int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ChallengeFailed(
            "The math question could not be checked. Please answer the new one."
        ) from exc
    if story != story_id:
        raise ChallengeFailed("That math question was for another story. Please answer this one.")
    age = time.time() - issued
    if age > settings.BROADSHEET_CHALLENGE_MAX_AGE:
        raise ChallengeFailed("The math question expired. Please answer the new one.")
    if age < settings.BROADSHEET_CHALLENGE_MIN_SECONDS:
        raise ChallengeFailed("That was quicker than anyone can type. Please try again.")
    try:
        given = int(str(answer).strip())
    except ValueError as exc:
        raise ChallengeFailed("Please answer the math question with a number.") from exc
    if given != first + second:
        raise ChallengeFailed(
            "That is not the right answer to the math question. Please try the new one."
        )
    try:
        with transaction.atomic():
            UsedChallenge.objects.create(nonce=nonce)
            # Nonces older than any valid challenge can go: their tokens have expired.
            UsedChallenge.objects.filter(
                used_at__lt=timezone.now()
                - timedelta(seconds=settings.BROADSHEET_CHALLENGE_MAX_AGE)
            ).delete()
    except IntegrityError as exc:
        raise ChallengeFailed(
            "That math question has already been answered. Please answer the new one."
        ) from exc
