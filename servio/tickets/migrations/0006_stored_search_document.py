"""PostgreSQL: the ticket's search document stored in a column, the GIN index on that column.

The text search read the words of every candidate ticket again (`to_tsvector` of the title and
description, the expression the GIN index of migration 0002 was built on): a page of a word
found in 1 % of a million tickets ran it some 5,000 times and took 180 ms (decision 28). The
document is now a generated column, kept by PostgreSQL itself on every insert and update, so
checking a row is a comparison. Django does not know the column: it never writes it, and COPY
and INSERT with a column list leave it to the database. SQLite keeps its FTS5 table.

Adding a stored generated column rewrites the table (about two minutes for a million tickets
on two cores, during which the table is locked).
"""

from django.db import migrations

DOCUMENT = "to_tsvector('simple'::regconfig, COALESCE(title, '') || ' ' || COALESCE(description, ''))"
FORWARDS = [
    f"ALTER TABLE tickets_ticket ADD COLUMN search_document tsvector "
    f"GENERATED ALWAYS AS ({DOCUMENT}) STORED",
    "CREATE INDEX tickets_ticket_document ON tickets_ticket USING gin (search_document)",
    "DROP INDEX IF EXISTS tickets_ticket_fts",
]
BACKWARDS = [
    f"CREATE INDEX IF NOT EXISTS tickets_ticket_fts ON tickets_ticket USING gin (({DOCUMENT}))",
    "DROP INDEX IF EXISTS tickets_ticket_document",
    "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_document",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARDS:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARDS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_foreign_keys_indexed_by_composites")]
    operations = [migrations.RunPython(forwards, backwards)]
