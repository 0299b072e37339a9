"""Per-kind number sequences (PostgreSQL), full-text search structures, the default matrix."""

from django.db import migrations

KINDS = ("incident", "request", "problem", "change", "task")
# ITIL's usual matrix: (impact, urgency) -> priority, 1 = highest.
MATRIX = {
    (1, 1): 1, (1, 2): 2, (1, 3): 3,
    (2, 1): 2, (2, 2): 3, (2, 3): 4,
    (3, 1): 3, (3, 2): 4, (3, 3): 5,
}  # fmt: skip

PG_SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS tickets_ticket_fts ON tickets_ticket USING gin "
    "((to_tsvector('simple'::regconfig, COALESCE(title, '') || ' ' || COALESCE(description, ''))))"
)
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS tickets_ticket_fts USING fts5("
    "title, description, content='tickets_ticket', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_ai AFTER INSERT ON tickets_ticket BEGIN "
    "INSERT INTO tickets_ticket_fts(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_ad AFTER DELETE ON tickets_ticket BEGIN "
    "INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    "CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_au AFTER UPDATE OF title, description "
    "ON tickets_ticket BEGIN "
    "INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    "INSERT INTO tickets_ticket_fts(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for kind in KINDS:
            schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS servio_ticket_number_{kind}")
        schema_editor.execute(PG_SEARCH_INDEX)
    elif vendor == "sqlite":
        for statement in SQLITE_FTS:
            schema_editor.execute(statement)
    rule = apps.get_model("tickets", "PriorityRule")
    for (impact, urgency), priority in MATRIX.items():
        rule.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS tickets_ticket_fts")
        for kind in KINDS:
            schema_editor.execute(f"DROP SEQUENCE IF EXISTS servio_ticket_number_{kind}")
    elif vendor == "sqlite":
        for name in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS tickets_ticket_fts_{name}")
        schema_editor.execute("DROP TABLE IF EXISTS tickets_ticket_fts")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
