"""A small archive to search: stories readers may find, and stories they must never."""

import pytest

from tests.conftest import paragraph


def body(*texts):
    return [paragraph(text) for text in texts]


@pytest.fixture
def lighthouse_stories(hidden_stories):
    """{title: story} for one story of each kind readers may not see (tests/conftest.py),
    all about the lighthouse, so a search for it would find them if anything leaked."""
    return hidden_stories(body=body("The old lighthouse keeper spoke at the meeting."))
