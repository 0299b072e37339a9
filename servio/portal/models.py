"""What the portal asks in the requester's words, and what each answer means for the desk."""

from __future__ import annotations

from django.db import models

from servio.tickets.models import Level


class PortalAnswer(models.Model):
    """One answer the portal's form offers to "How bad is it?" (it sets the ticket's urgency)
    or "Who is affected?" (it sets the impact); the priority matrix does the rest.

    Admins edit the wording, order and meaning in the admin; the defaults come from a data
    migration (docs/ui.md lists them).
    """

    class Question(models.TextChoices):
        HOW_BAD = "how_bad", "How bad is it? (sets the urgency)"
        AFFECTED = "affected", "Who is affected? (sets the impact)"

    question = models.CharField(max_length=10, choices=Question.choices)
    code = models.SlugField(
        max_length=40, unique=True, help_text="Stable name the form sends; do not reuse one."
    )
    wording = models.CharField(max_length=120, help_text="What the requester reads.")
    level = models.PositiveSmallIntegerField(
        choices=Level.choices,
        help_text="The urgency (How bad is it?) or impact (Who is affected?) it stands for.",
    )
    order = models.PositiveSmallIntegerField(default=0, help_text="Smaller first.")
    is_active = models.BooleanField(default=True, help_text="Offered on the form.")

    class Meta:
        ordering = ["question", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "wording"], name="portal_answer_wording")
        ]

    def __str__(self) -> str:
        return f"{self.get_question_display().split('?')[0]}? {self.wording}"


# The answers a new installation starts with (the data migration 0002 writes the same rows);
# also used while the table is empty, as the priority matrix falls back to its formula.
DEFAULT_ANSWERS: tuple[tuple[str, str, str, int], ...] = (
    ("how_bad", "stops_work", "It stops my work completely", Level.HIGH),
    ("how_bad", "slows_down", "It slows me down, but I can still work", Level.MEDIUM),
    ("how_bad", "can_wait", "It is a nuisance; it can wait", Level.LOW),
    ("affected", "just_me", "Only me", Level.LOW),
    ("affected", "several", "My team or several colleagues", Level.MEDIUM),
    ("affected", "many", "Many people: a whole department, site or everyone", Level.HIGH),
)
