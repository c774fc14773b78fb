"""Upgrading keeps every subscriber: those from before tokens are given one."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.module_loading import import_string

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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tasks_queued_before_the_newsletter_moved_its_tasks_still_run():
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    executor = MigrationExecutor(connection)
    executor.migrate([("newsletter", "0008_subject_help_text")])
    queued = DBTaskResult.objects.create(
        task_path="broadsheet.newsletter.tasks.send_due_issue_task",
        args_kwargs={"args": ["token"], "kwargs": {}},
        run_after=timezone.now(),
        queue_name="default",
        backend_name="default",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    queued.refresh_from_db()
    assert queued.task_path == "broadsheet.newsletter.scheduling.send_due_issue_task"
    assert import_string(queued.task_path).name == "send_due_issue_task"  # the worker finds it
