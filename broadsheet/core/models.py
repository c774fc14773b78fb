from django.db import models


class RateCount(models.Model):
    """How many times one action was taken in one window of a rate limit.

    The embedded default keeps rate limits here, in the database every server process
    shares, so a limit means what its setting says however many processes serve the site
    (broadsheet/core/ratelimit.py). With Redis the cache holds them instead.
    """

    key = models.CharField(max_length=255, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.count}"
