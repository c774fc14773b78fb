from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("news", "0004_corrections_to_rows"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="storypage",
            name="legacy_corrections",
        ),
    ]
