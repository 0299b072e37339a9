"""The portal's questions in the requester's words, and what each answer means (docs/ui.md).

"How bad is it?" sets the urgency, "Who is affected?" the impact; the priority matrix does the
rest: "It stops my work completely" is P3 for one person, P2 for a team, P1 for many.
"""

from django.db import migrations

# A copy of servio.portal.models.DEFAULT_ANSWERS as it was when this migration was written:
# (question, code, wording, level), 1 = high.
ANSWERS = (
    ("how_bad", "stops_work", "It stops my work completely", 1),
    ("how_bad", "slows_down", "It slows me down, but I can still work", 2),
    ("how_bad", "can_wait", "It is a nuisance; it can wait", 3),
    ("affected", "just_me", "Only me", 3),
    ("affected", "several", "My team or several colleagues", 2),
    ("affected", "many", "Many people: a whole department, site or everyone", 1),
)


def forwards(apps, schema_editor):
    answer = apps.get_model("portal", "PortalAnswer")
    for order, (question, code, wording, level) in enumerate(ANSWERS):
        answer.objects.get_or_create(
            code=code,
            defaults={"question": question, "wording": wording, "level": level, "order": order},
        )


def backwards(apps, schema_editor):
    apps.get_model("portal", "PortalAnswer").objects.filter(
        code__in=[code for _, code, _, _ in ANSWERS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_answers")]
    operations = [migrations.RunPython(forwards, backwards)]
