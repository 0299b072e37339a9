"""The acknowledgement and the resolution emails say when, in the recipient's time zone
(decision 37). Rows still as seeded by 0002 take the new defaults; templates an admin edited
are left as they are."""

from pathlib import Path

from django.db import migrations

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"
# key -> (part, the line as 0002 seeded it, the line as it reads now)
CHANGES = {
    "ticket_created": (
        (
            "text",
            "we have received your request and logged it as {{ ticket.reference }}:",
            "we received your request on {{ ticket.created_at }} and logged it as "
            "{{ ticket.reference }}:",
        ),
        (
            "html",
            "<p>we have received your request and logged it as "
            "<strong>{{ ticket.reference }}</strong>:</p>",
            "<p>we received your request on {{ ticket.created_at }} and logged it as "
            "<strong>{{ ticket.reference }}</strong>:</p>",
        ),
    ),
    "status_resolved": (
        (
            "text",
            "{{ ticket.reference }} has been resolved:",
            "{{ ticket.reference }} was resolved{% if ticket.resolved_at %} on "
            "{{ ticket.resolved_at }}{% endif %}:",
        ),
        (
            "html",
            "<p><strong>{{ ticket.reference }}</strong> has been resolved:</p>",
            "<p><strong>{{ ticket.reference }}</strong> was resolved{% if ticket.resolved_at %} "
            "on {{ ticket.resolved_at }}{% endif %}:</p>",
        ),
    ),
}


def _apply(apps, forward: bool) -> None:
    MailTemplate = apps.get_model("mail", "MailTemplate")
    suffixes = {"text": "txt", "html": "html"}
    for key, parts in CHANGES.items():
        row = MailTemplate.objects.filter(key=key).first()
        if row is None:
            continue
        shipped_new = {p: (TEMPLATE_DIR / f"{key}.{suffixes[p]}").read_text("utf-8") for p in suffixes}
        changed = False
        for part, old, new in parts:
            if forward:
                seeded = shipped_new[part].replace(new, old)
                if getattr(row, part) == seeded:
                    setattr(row, part, shipped_new[part])
                    changed = True
            elif getattr(row, part) == shipped_new[part]:
                setattr(row, part, shipped_new[part].replace(new, old))
                changed = True
        if changed:
            row.save(update_fields=["text", "html"])


def forwards(apps, schema_editor):
    _apply(apps, True)


def backwards(apps, schema_editor):
    _apply(apps, False)


class Migration(migrations.Migration):
    dependencies = [("mail", "0007_mailbox_poll_health")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
