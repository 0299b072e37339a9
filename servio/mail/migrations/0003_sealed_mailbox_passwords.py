"""Mailbox passwords are stored encrypted (servio.core.sealed): widen the column and seal the
passwords stored as given until now."""

from django.db import migrations, models

from servio.core import sealed


def seal_existing(apps, schema_editor):
    Mailbox = apps.get_model("mail", "Mailbox")
    for mailbox in Mailbox.objects.exclude(password="").only("pk", "password"):
        if not sealed.is_sealed(mailbox.password):
            Mailbox.objects.filter(pk=mailbox.pk).update(password=sealed.seal(mailbox.password))


def unseal_existing(apps, schema_editor):
    Mailbox = apps.get_model("mail", "Mailbox")
    for mailbox in Mailbox.objects.exclude(password="").only("pk", "password"):
        if sealed.is_sealed(mailbox.password):
            Mailbox.objects.filter(pk=mailbox.pk).update(password=sealed.unseal(mailbox.password))


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0002_seed_templates"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mailbox",
            name="password",
            field=models.CharField(
                blank=True, help_text="Stored encrypted; see imap_password().", max_length=500
            ),
        ),
        migrations.RunPython(seal_existing, unseal_existing),
    ]
