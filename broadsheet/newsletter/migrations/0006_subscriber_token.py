import secrets

from django.db import migrations, models


def give_each_subscriber_a_token(apps, schema_editor):
    Subscriber = apps.get_model("newsletter", "Subscriber")
    batch = []
    for subscriber in Subscriber.objects.filter(token__isnull=True).only("pk").iterator():
        subscriber.token = secrets.token_urlsafe(16)
        batch.append(subscriber)
        if len(batch) == 1000:
            Subscriber.objects.bulk_update(batch, ["token"])
            batch = []
    Subscriber.objects.bulk_update(batch, ["token"])


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0005_postal_address")]

    operations = [
        migrations.AddField(
            model_name="subscriber",
            name="token",
            field=models.CharField(editable=False, max_length=32, null=True),
        ),
        migrations.RunPython(give_each_subscriber_a_token, migrations.RunPython.noop),
    ]
