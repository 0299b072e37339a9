"""Satisfaction surveys: an invitation per resolution, and the requester's answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SurveyInvitation(models.Model):
    """One invitation to rate one resolution of a ticket; its signed link works once."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # Who the rating is about: the team and agent at the time of the resolution.
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event_id = models.UUIDField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"survey for {self.ticket_id} ({'answered' if self.used_at else 'open'})"


class SurveyResponseQuerySet(models.QuerySet["SurveyResponse"]):
    def visible_to(self, user) -> SurveyResponseQuerySet:
        """Admins: all; staff (report readers included): those of tickets they may see;
        others: none. Reading reports is a permission, not a wider view: a team lead serving
        one organisation reads that organisation's answers only."""
        from servio.tickets.models import Ticket

        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_capability("visibility.all"):
            return self
        if user.has_capability("ticket.work"):
            return self.filter(ticket__in=Ticket.objects.visible_to(user))
        return self.none()


class SurveyResponse(models.Model):
    """A requester's rating (1-5) of how their ticket was handled, with an optional comment."""

    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.CASCADE, related_name="response"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="survey_responses"
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SurveyResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="survey_rating_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="survey_created")]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.ticket_id}"
