from django.db import migrations

# Chains events after the tip inside the appending statement (PostgreSQL): locks the tip row,
# hashes each event's canonical JSON (built from the pieces the application sends around the
# previous hash and the sequence number, see servio.audit.services.hash_pieces), moves the tip.
CREATE = r"""
CREATE OR REPLACE FUNCTION servio_audit_chain(heads text[], middles text[])
RETURNS TABLE (ord integer, out_seq bigint, out_prev varchar, out_hash varchar)
LANGUAGE plpgsql AS $$
DECLARE
    tip_seq bigint;
    tip_hash varchar;
BEGIN
    SELECT head.seq, head.hash INTO tip_seq, tip_hash
        FROM audit_audithead AS head WHERE head.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_audithead (id, seq, hash) VALUES (1, 0, repeat('0', 64))
            ON CONFLICT (id) DO NOTHING;
        SELECT head.seq, head.hash INTO tip_seq, tip_hash
            FROM audit_audithead AS head WHERE head.id = 1 FOR UPDATE;
    END IF;
    FOR i IN 1 .. coalesce(array_length(heads, 1), 0) LOOP
        ord := i;
        out_prev := tip_hash;
        tip_seq := tip_seq + 1;
        out_seq := tip_seq;
        tip_hash := encode(sha256(convert_to(
            heads[i] || tip_hash || middles[i] || tip_seq::text || '}', 'UTF8')), 'hex');
        out_hash := tip_hash;
        RETURN NEXT;
    END LOOP;
    UPDATE audit_audithead SET seq = tip_seq, hash = tip_hash WHERE id = 1;
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS servio_audit_chain(text[], text[]);"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    """The audit chain's append in one statement on PostgreSQL (decision 14)."""

    dependencies = [("audit", "0002_audit_head")]
    operations = [migrations.RunPython(create_function, drop_function)]
