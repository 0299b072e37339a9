"""The one filter definition for ticket lists, used by the API and the agent views."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from django.db.models import Exists, OuterRef, Q, QuerySet
from ninja import Field, Schema

from servio.api.types import UtcDateTime
from servio.core.errors import ValidationFailed
from servio.tickets import search, workflows
from servio.tickets.inputs import MAX_ID
from servio.tickets.models import Category

# An id in a filter: larger values cannot exist and would overflow the database driver.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
_ASSIGNEE_ID = re.compile(r"^[0-9]{1,18}$")

SORTS: dict[str, list[str]] = {
    "priority": ["priority", "created_at", "id"],  # most urgent first, then oldest
    "-priority": ["-priority", "-created_at", "-id"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
    "updated": ["updated_at", "id"],
    "-updated": ["-updated_at", "-id"],
    "number": ["number", "id"],
    "-number": ["-number", "-id"],
    # Breaching soonest: tickets with a counting SLA clock, the one falling due first on top.
    "breaching": ["sla_due_at", "id"],
}
# Sorts read in the order of an index led by their first key (t_created_id, t_updated_id): a
# word search looks for its page among the next tickets in that order, SEARCH_WINDOW_PER_ROW
# for each row of the page (20,400 for a page of 50), before it reads every match
# (`paginate`'s window, decision 28).
WINDOWED_SORTS = frozenset({"created", "-created", "updated", "-updated"})
SEARCH_WINDOW_PER_ROW = 400
SortKey = Literal[
    "priority",
    "-priority",
    "created",
    "-created",
    "updated",
    "-updated",
    "number",
    "-number",
    "breaching",
]


class TicketFilter(Schema):
    """Every filter a ticket list understands; all are optional and combine with AND."""

    kind: list[str] | None = None
    status: list[str] | None = None
    open: bool | None = Field(None, description="only open (true) or only finished (false)")
    priority: list[int] | None = None
    team: list[Id] | None = None
    assignee: str | None = Field(None, description="a user id, 'me' or 'none'")
    requester: Id | None = None
    organization: list[Id] | None = None
    service: list[Id] | None = None
    category: Id | None = Field(None, description="this category and everything below it")
    is_major: bool | None = None
    parent: Id | None = None
    created_after: UtcDateTime | None = None
    created_before: UtcDateTime | None = None
    updated_after: UtcDateTime | None = None
    updated_before: UtcDateTime | None = None
    q: str | None = Field(None, max_length=200, description="ticket number or words")
    # The dashboard's sets (docs/reporting.md): what its figures count, so that each figure
    # links to the queue of exactly its tickets.
    no_team: bool | None = Field(None, description="only tickets without a team (true)")
    resolved_after: UtcDateTime | None = Field(
        None, description="resolved or closed, last resolved at or after this time"
    )
    resolved_before: UtcDateTime | None = Field(
        None, description="resolved or closed, last resolved before this time"
    )
    responded: bool | None = Field(None, description="has a first public staff reply (true)")
    first_contact: bool | None = Field(
        None, description="resolved at first contact (true): see docs/reporting.md"
    )
    reassigned: bool | None = Field(None, description="reassigned at least once (true)")
    reopened: bool | None = Field(None, description="reopened at least once (true)")
    sla: Literal["met", "breached"] | None = Field(
        None,
        description="has a requester SLA clock that ended met, or that breached (ended "
        "breached, or still open past its target); with sla_after/sla_before, the clock's end "
        "(or, still open, its due time) in that period",
    )
    sla_after: UtcDateTime | None = None
    sla_before: UtcDateTime | None = None
    rated_after: UtcDateTime | None = Field(
        None, description="has a satisfaction answer given at or after this time"
    )
    rated_before: UtcDateTime | None = Field(
        None, description="has a satisfaction answer given before this time"
    )
    rating: list[Annotated[int, Field(ge=1, le=5)]] | None = Field(
        None, description="has a satisfaction answer with one of these ratings"
    )
    sort: SortKey = "-created"

    def apply(self, queryset: QuerySet, user) -> QuerySet:
        """Narrow `queryset` (already scoped to what `user` may see) by every filter given."""
        qs = queryset
        simple = {
            "kind__in": self.kind,
            "status__in": self.status,
            "priority__in": self.priority,
            "team_id__in": self.team,
            "requester_id": self.requester,
            "organization_id__in": self.organization,
            "service_id__in": self.service,
            "is_major": self.is_major,
            "parent_id": self.parent,
            "created_at__gte": self.created_after,
            "created_at__lt": self.created_before,
            "updated_at__gte": self.updated_after,
            "updated_at__lt": self.updated_before,
        }
        qs = qs.filter(**{k: v for k, v in simple.items() if v is not None})
        if self.open is True:
            qs = qs.exclude(status__in=workflows.closed_statuses())
        elif self.open is False:
            qs = qs.filter(status__in=workflows.closed_statuses())
        if self.assignee is not None:
            if self.assignee == "me":
                qs = qs.filter(assignee=user)
            elif self.assignee == "none":
                qs = qs.filter(assignee__isnull=True)
            elif _ASSIGNEE_ID.match(self.assignee):
                qs = qs.filter(assignee_id=int(self.assignee))
            else:
                raise ValidationFailed.field("assignee", "must be a user id, 'me' or 'none'.")
        if self.category is not None:
            root = Category.objects.filter(pk=self.category).first()
            if root is None:  # matches nothing; the sort below still needs its annotation
                qs = qs.none()
            else:
                qs = qs.filter(Q(category=root) | Q(category__path__startswith=f"{root.path} > "))
        qs = self._report_sets(qs)
        if self.q:
            qs = search.search(qs, self.q)
        if self.sort == "breaching":
            from servio.sla.selectors import next_due_at  # the SLA app builds on tickets

            qs = qs.annotate(sla_due_at=next_due_at()).filter(sla_due_at__isnull=False)
        return qs

    def _report_sets(self, qs: QuerySet) -> QuerySet:
        """The dashboard's sets; each is the figure's own definition (servio.reporting)."""
        from servio.reporting import figures  # reporting builds on tickets

        if self.no_team:
            qs = qs.filter(team__isnull=True)
        if self.resolved_after is not None or self.resolved_before is not None:
            qs = figures.resolved(qs)
            if self.resolved_after is not None:
                qs = qs.filter(resolved_at__gte=self.resolved_after)
            if self.resolved_before is not None:
                qs = qs.filter(resolved_at__lt=self.resolved_before)
        if self.responded:
            qs = qs.filter(first_response_at__isnull=False)
        if self.first_contact:
            qs = qs.filter(figures.first_contact_resolution())
        if self.reassigned:
            qs = qs.filter(reassignment_count__gt=0)
        if self.reopened:
            qs = qs.filter(reopen_count__gt=0)
        if self.sla is not None:
            clocks = figures.sla_clocks(self.sla, self.sla_after, self.sla_before)
            qs = qs.filter(Exists(clocks.filter(ticket_id=OuterRef("pk"))))
        if self.rated_after or self.rated_before or self.rating:
            answers = figures.survey_answers().filter(ticket_id=OuterRef("pk"))
            if self.rated_after is not None:
                answers = answers.filter(created_at__gte=self.rated_after)
            if self.rated_before is not None:
                answers = answers.filter(created_at__lt=self.rated_before)
            if self.rating:
                answers = answers.filter(rating__in=self.rating)
            qs = qs.filter(Exists(answers))
        return qs

    def window(self, size: int) -> int | None:
        """`paginate`'s window for a page of `size`: a word search in a time index's order."""
        if self.sort in WINDOWED_SORTS and search.by_words(self.q):
            return SEARCH_WINDOW_PER_ROW * (size + 1)
        return None

    def ordering(self) -> list[str]:
        """Order-by fields for the chosen sort; the last one is unique, as cursors need."""
        return SORTS[self.sort]
