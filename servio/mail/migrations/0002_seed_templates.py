"""Seed the editable email templates from the defaults shipped in servio/mail/templates/mail/."""

from pathlib import Path

from django.db import migrations

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"
KEYS = (
    "ticket_created",
    "agent_reply",
    "status_on_hold",
    "status_resolved",
    "status_closed",
    "resolved_by_major",
    "ticket_assigned",
    "requester_reply",
    "sla_warning",
    "sla_breached",
    "sender_rejected",
)


def seed(apps, schema_editor):
    MailTemplate = apps.get_model("mail", "MailTemplate")
    for key in KEYS:
        read = lambda suffix, key=key: (TEMPLATE_DIR / f"{key}.{suffix}").read_text(  # noqa: E731
            encoding="utf-8"
        )
        MailTemplate.objects.get_or_create(
            key=key,
            defaults={
                "subject": read("subject.txt").strip(),
                "text": read("txt"),
                "html": read("html"),
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("mail", "MailTemplate").objects.filter(key__in=KEYS).delete()


class Migration(migrations.Migration):
    dependencies = [("mail", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
