from django.db import migrations

# The tasks left broadsheet/newsletter/tasks.py for the modules that queue them. Tasks
# already queued in the database queue name the old module; without this the worker
# could not import them, and the daily send's chain would stop at the next send time.
MOVED = {
    "broadsheet.newsletter.tasks.send_confirmation_task": (
        "broadsheet.newsletter.services.send_confirmation_task"
    ),
    "broadsheet.newsletter.tasks.send_due_issue_task": (
        "broadsheet.newsletter.scheduling.send_due_issue_task"
    ),
    "broadsheet.newsletter.tasks.send_issue_task": (
        "broadsheet.newsletter.scheduling.send_issue_task"
    ),
}


def point_queued_tasks_at_their_new_homes(apps, schema_editor):
    try:
        queued = apps.get_model("django_tasks_database", "DBTaskResult")
    except LookupError:  # another task backend: nothing queued in this database
        return
    for old, new in MOVED.items():
        queued.objects.filter(task_path=old).update(task_path=new)


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0008_subject_help_text"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunPython(point_queued_tasks_at_their_new_homes, migrations.RunPython.noop)
    ]
