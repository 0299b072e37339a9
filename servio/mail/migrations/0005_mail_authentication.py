"""Mail authentication (decision record 0018): the receiving hosts a mailbox trusts for
Authentication-Results, and each inbound message's verdict."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mail', '0004_inbound_content_hash'),
    ]

    operations = [
        migrations.AddField(
            model_name='inboundmessage',
            name='authentication',
            field=models.CharField(blank=True, choices=[('', 'Not checked'), ('pass', 'Authenticated'), ('fail', 'Failed authentication'), ('none', 'Unauthenticated')], default='', max_length=4),
        ),
        migrations.AddField(
            model_name='inboundmessage',
            name='authentication_detail',
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name='mailbox',
            name='trusted_authserv_ids',
            field=models.CharField(blank=True, help_text="The authserv-ids (usually host names) of the receiving mail servers whose Authentication-Results headers count for this mailbox, separated by commas or spaces, e.g. 'mx.provider.example'. Those servers must remove such headers that arrive with the message. Mail from a staff address acts as that person only when it is authenticated (see docs/email.md).", max_length=1000, verbose_name='trusted receiving hosts'),
        ),
    ]
