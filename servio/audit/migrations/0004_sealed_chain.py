"""The sealed chain (decision 31): events lose their chain columns to `AuditSeal`, written by the
sealer; existing events keep their hashes as format 1 and their seals are copied over."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import servio.audit.chain

COPY_SEALS = """
INSERT INTO audit_auditseal (seq, event_id, prev_hash, hash, sealed_at)
SELECT seq, id, prev_hash, hash, at FROM audit_auditevent
"""


def drop_chain_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS servio_audit_chain(text[], text[]);")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_in_sql")]

    operations = [
        migrations.RunPython(drop_chain_function, migrations.RunPython.noop, elidable=True),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                (
                    "event",
                    models.OneToOneField(
                        editable=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="seal",
                        to="audit.auditevent",
                    ),
                ),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
                ("sealed_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"ordering": ["seq"]},
        ),
        migrations.CreateModel(
            name="AuditPending",
            fields=[
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        serialize=False,
                        to="audit.auditevent",
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        # Existing events were chained as they were written, in format 1.
        migrations.AddField(
            model_name="auditevent",
            name="format",
            field=models.PositiveSmallIntegerField(default=1, editable=False),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="format",
            field=models.PositiveSmallIntegerField(default=2, editable=False),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="salt",
            field=models.CharField(blank=True, default="", editable=False, max_length=32),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="salt",
            field=models.CharField(
                blank=True,
                default=servio.audit.chain.new_salt,
                editable=False,
                max_length=32,
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="redacted",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunSQL(COPY_SEALS, migrations.RunSQL.noop),
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["id"]}),
        migrations.RemoveIndex(model_name="auditevent", name="audit_audit_object__599a7d_idx"),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                fields=["object_type", "object_id", "id"], name="audit_audit_object__0898ad_idx"
            ),
        ),
        migrations.RemoveField(model_name="auditevent", name="hash"),
        migrations.RemoveField(model_name="auditevent", name="prev_hash"),
        migrations.RemoveField(model_name="auditevent", name="seq"),
        migrations.AddField(
            model_name="audithead",
            name="checkpoint_seq",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="audithead",
            name="checkpoint_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
