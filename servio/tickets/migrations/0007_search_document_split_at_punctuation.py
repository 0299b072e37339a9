"""PostgreSQL: the search document splits its text at punctuation, as the search text does.

PostgreSQL's parser keeps some punctuation in its tokens: `ORA-01555` became `ora` and `-01555`,
`srv-db01.example.com` one host token, `jane.doe@example.com` one email token, `10.0.0.12` and
`2.3.1` version tokens. A search splits its text into letters and digits (`servio.tickets.search`,
as SQLite's FTS5 tokenizer does), so none of these codes, hosts, addresses or versions was ever
found on PostgreSQL. The document now replaces every run of other characters with a space before
it is read, so both databases see the same words.

The generated column is dropped and added again (PostgreSQL 15 cannot change the expression of
a generated column): the table is rewritten and locked meanwhile, about two minutes for a
million tickets on two cores.
"""

from django.db import migrations

OLD = "to_tsvector('simple'::regconfig, COALESCE(title, '') || ' ' || COALESCE(description, ''))"
NEW = (
    "to_tsvector('simple'::regconfig, regexp_replace("
    "COALESCE(title, '') || ' ' || COALESCE(description, ''), '[^[:alnum:]]+', ' ', 'g'))"
)


def _document(expression: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS tickets_ticket_document",
        "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_document",
        f"ALTER TABLE tickets_ticket ADD COLUMN search_document tsvector "
        f"GENERATED ALWAYS AS ({expression}) STORED",
        "CREATE INDEX tickets_ticket_document ON tickets_ticket USING gin (search_document)",
    ]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _document(NEW):
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _document(OLD):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_stored_search_document")]
    operations = [migrations.RunPython(forwards, backwards)]
