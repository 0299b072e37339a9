"""Stored messages are unique per mailbox, Message-ID *and* content hash (servio.mail.identity),
so that a different message reusing a Message-ID is stored instead of dropped; the hashes of the
messages stored so far are computed from their raw bytes."""

from django.db import migrations, models

from servio.mail.identity import content_hash


def hash_stored(apps, schema_editor):
    InboundMessage = apps.get_model("mail", "InboundMessage")
    pks = list(InboundMessage.objects.filter(content_hash="").values_list("pk", flat=True))
    for start in range(0, len(pks), 50):  # a few raw messages in memory at a time
        for message in InboundMessage.objects.filter(pk__in=pks[start : start + 50]).only("raw"):
            InboundMessage.objects.filter(pk=message.pk).update(
                content_hash=content_hash(bytes(message.raw))
            )


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0003_sealed_mailbox_passwords"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="inboundmessage",
            name="inbound_once",
        ),
        migrations.AddField(
            model_name="inboundmessage",
            name="content_hash",
            field=models.CharField(
                blank=True,
                help_text="SHA-256 of the content headers and body (servio.mail.identity): with "
                "the Message-ID, what makes a second delivery the same message.",
                max_length=64,
            ),
        ),
        migrations.RunPython(hash_stored, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="inboundmessage",
            constraint=models.UniqueConstraint(
                fields=("message_id", "mailbox", "content_hash"), name="inbound_once"
            ),
        ),
    ]
