"""Corrections get a table of their own (news.Correction); the StreamField they lived in
is kept, renamed, until 0004 has copied them, and 0005 removes it.

Three migrations, not one: on PostgreSQL, rows written in a migration cannot be followed
by an ALTER TABLE of the same table in the same transaction ("pending trigger events").
"""

import django.db.models.deletion
import django.utils.timezone
import modelcluster.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("news", "0002_story_language"),
    ]

    operations = [
        # The new rows answer to `story.corrections`; the old field makes way for them.
        migrations.RenameField(
            model_name="storypage",
            old_name="corrections",
            new_name="legacy_corrections",
        ),
        migrations.CreateModel(
            name="Correction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sort_order", models.IntegerField(blank=True, editable=False, null=True)),
                ("date", models.DateField(default=django.utils.timezone.localdate)),
                ("note", models.TextField(help_text="What was wrong, and what is right now.")),
                (
                    "story",
                    modelcluster.fields.ParentalKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="corrections",
                        to="news.storypage",
                    ),
                ),
            ],
            options={
                "ordering": ["sort_order"],
                "abstract": False,
                "indexes": [models.Index(fields=["-date", "-id"], name="news_correction_newest")],
            },
        ),
    ]
