"""Stored HTML bodies of inbound mail sanitised again: style values that call url() or
expression(), hide words behind CSS escapes or comments, or attach bindings are dropped
(servio.core.css; decision 20). The sanitiser kept such values until now."""

from django.db import migrations

from servio.mail.htmltext import sanitize_html


def clean_stored_bodies(apps, schema_editor):
    InboundMessage = apps.get_model("mail", "InboundMessage")
    styled = InboundMessage.objects.filter(html_body__icontains="style=").only("pk", "html_body")
    for message in styled.iterator(chunk_size=200):
        cleaned = sanitize_html(message.html_body)
        if cleaned != message.html_body:
            InboundMessage.objects.filter(pk=message.pk).update(html_body=cleaned)


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0005_mail_authentication"),
    ]

    operations = [
        migrations.RunPython(clean_stored_bodies, migrations.RunPython.noop, elidable=True),
    ]
