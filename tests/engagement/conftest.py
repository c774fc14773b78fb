import time

import pytest
from django.core import signing

from broadsheet.engagement import challenge as challenges


def answered_challenge(story_id):
    """A fresh challenge for the story, with its right answer."""
    issued = challenges.issue_challenge(story_id=story_id)
    return {"challenge_token": issued.token, "challenge_answer": str(issued.first + issued.second)}


def wrong_answer(story_id):
    issued = challenges.issue_challenge(story_id=story_id)
    return {
        "challenge_token": issued.token,
        "challenge_answer": str(issued.first + issued.second + 1),
    }


def forged_token(story_id, *, first=2, second=10, age=10):
    token = signing.dumps(
        {"s": story_id, "a": first, "b": second, "n": "f" * 32, "t": time.time() - age},
        salt="not-the-real-salt",
    )
    return {"challenge_token": token, "challenge_answer": str(first + second)}


@pytest.fixture
def django_client_factory():
    """Another reader: a browser with its own cookies."""
    from django.test import Client

    return Client
