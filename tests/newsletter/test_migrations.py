"""Upgrading keeps every subscriber: those from before tokens are given one."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_TOKENS = [("newsletter", "0005_postal_address")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_subscribers_from_before_tokens_are_each_given_their_own():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_TOKENS)
    old = executor.loader.project_state(BEFORE_TOKENS).apps.get_model("newsletter", "Subscriber")
    for n in range(3):
        old.objects.create(email=f"reader{n}@example.org", status="confirmed")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from broadsheet.newsletter.models import Subscriber

    tokens = list(Subscriber.objects.values_list("token", flat=True))
    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert all(len(token) >= 22 for token in tokens)
