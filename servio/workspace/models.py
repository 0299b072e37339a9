"""What agents keep in their workspace: saved queue views and canned responses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from servio.accounts import scope
from servio.accounts.models import Team


def _mine_or_my_teams(user) -> Q:
    team_ids = scope.team_ids(user)
    return Q(owner=user) | Q(team_id__in=team_ids)


class SavedViewQuerySet(models.QuerySet["SavedView"]):
    def visible_to(self, user) -> SavedViewQuerySet:
        """Staff see their own views and those shared with one of their teams."""
        if not user.is_authenticated or not user.is_active or not user.is_staff_member:
            return self.none()
        return self.filter(_mine_or_my_teams(user))


class SavedView(models.Model):
    """A named set of queue filters (TicketFilter fields), private or shared with a team."""

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        help_text="Shared with this team; empty keeps it private.",
    )
    queue = models.CharField(max_length=20, default="all")
    filters = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(
        default=0, help_text="Place in its owner's list of views (lowest first)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name


class CannedResponseQuerySet(models.QuerySet["CannedResponse"]):
    def visible_to(self, user) -> CannedResponseQuerySet:
        """Staff see their personal responses, those of their teams and those for everyone."""
        if not user.is_authenticated or not user.is_active or not user.is_staff_member:
            return self.none()
        return self.filter(_mine_or_my_teams(user) | Q(is_global=True))


class CannedResponse(models.Model):
    """A reusable reply text (a pre-set reply), personal, for a team or for every agent."""

    title = models.CharField(max_length=120)
    body = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="canned_responses"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="canned_responses"
    )
    is_global = models.BooleanField(
        default=False, help_text="Offered to every agent (kept by administrators)."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = CannedResponseQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_global=False) | Q(team__isnull=True),
                name="canned_response_global_or_team",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def scope_label(self) -> str:
        """Who it is for, in words: "everyone", the team's name, or "only me"."""
        if self.is_global:
            return "everyone"
        return self.team.name if self.team is not None else "only me"
