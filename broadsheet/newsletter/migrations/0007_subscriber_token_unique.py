from django.db import migrations, models

import broadsheet.newsletter.models


class Migration(migrations.Migration):
    """Apart from 0006: on PostgreSQL, altering a table whose rows were just updated in the
    same transaction fails while its deferred foreign-key checks are pending."""

    dependencies = [("newsletter", "0006_subscriber_token")]

    operations = [
        migrations.AlterField(
            model_name="subscriber",
            name="token",
            field=models.CharField(
                default=broadsheet.newsletter.models.new_token,
                editable=False,
                max_length=32,
                unique=True,
            ),
        ),
    ]
