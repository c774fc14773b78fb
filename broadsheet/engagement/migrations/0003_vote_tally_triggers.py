"""Keep VoteTally in step with Vote inside the database, with triggers.

A trigger runs in the statement that inserts or changes the vote, so the tally cannot
miss or double-count a vote however many readers vote at once, and a vote stays one
statement (an upsert) instead of a locked read-modify-write: on SQLite that doubled the
votes a server sustains (bench/README.md).
"""

from django.db import migrations

SQLITE = [
    """
    CREATE TRIGGER engagement_vote_added AFTER INSERT ON engagement_vote BEGIN
        INSERT INTO engagement_votetally (story_id, count, total)
        VALUES (NEW.story_id, 1, NEW.stars)
        ON CONFLICT (story_id) DO UPDATE SET count = count + 1, total = total + NEW.stars;
    END
    """,
    """
    CREATE TRIGGER engagement_vote_changed AFTER UPDATE OF stars ON engagement_vote BEGIN
        UPDATE engagement_votetally SET total = total + NEW.stars - OLD.stars
        WHERE story_id = NEW.story_id;
    END
    """,
    """
    CREATE TRIGGER engagement_vote_removed AFTER DELETE ON engagement_vote BEGIN
        UPDATE engagement_votetally SET count = count - 1, total = total - OLD.stars
        WHERE story_id = OLD.story_id;
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS engagement_vote_added",
    "DROP TRIGGER IF EXISTS engagement_vote_changed",
    "DROP TRIGGER IF EXISTS engagement_vote_removed",
]

POSTGRESQL = [
    """
    CREATE FUNCTION engagement_vote_tally() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO engagement_votetally (story_id, count, total)
            VALUES (NEW.story_id, 1, NEW.stars)
            ON CONFLICT (story_id) DO UPDATE
            SET count = engagement_votetally.count + 1,
                total = engagement_votetally.total + NEW.stars;
            RETURN NEW;
        ELSIF TG_OP = 'UPDATE' THEN
            UPDATE engagement_votetally SET total = total + NEW.stars - OLD.stars
            WHERE story_id = NEW.story_id;
            RETURN NEW;
        ELSE
            UPDATE engagement_votetally SET count = count - 1, total = total - OLD.stars
            WHERE story_id = OLD.story_id;
            RETURN OLD;
        END IF;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER engagement_vote_tally
    AFTER INSERT OR UPDATE OF stars OR DELETE ON engagement_vote
    FOR EACH ROW EXECUTE FUNCTION engagement_vote_tally()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS engagement_vote_tally ON engagement_vote",
    "DROP FUNCTION IF EXISTS engagement_vote_tally()",
]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor[schema_editor.connection.vendor]:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("engagement", "0002_vote_tally")]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        )
    ]
