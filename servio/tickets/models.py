"""The unified work-item record and what hangs off it (comments, attachments, links, watchers)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from servio.accounts import scope
from servio.accounts.models import Organization, Team
from servio.tickets import workflows


class Kind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    REQUEST = "request", "Service request"
    PROBLEM = "problem", "Problem"
    CHANGE = "change", "Change"
    TASK = "task", "Task"


PREFIX = {
    Kind.INCIDENT: "INC",
    Kind.REQUEST: "REQ",
    Kind.PROBLEM: "PRB",
    Kind.CHANGE: "CHG",
    Kind.TASK: "TSK",
}
KIND_BY_PREFIX = {v: k for k, v in PREFIX.items()}
NUMBER_RE = re.compile(r"^(INC|REQ|PRB|CHG|TSK)-([0-9]{1,12})$", re.IGNORECASE)
# A ticket number written in a text (a comment, a description), as people write it: INC-42.
NUMBER_IN_TEXT = re.compile(rf"\b(?:{'|'.join(PREFIX.values())})-[0-9]{{1,12}}\b")


def format_number(kind: str, number: int) -> str:
    return f"{PREFIX[Kind(kind)]}-{number:06d}"


def parse_number(text: str) -> tuple[str, int] | None:
    match = NUMBER_RE.match(text.strip())
    if not match:
        return None
    return KIND_BY_PREFIX[match.group(1).upper()], int(match.group(2))


class Level(models.IntegerChoices):
    """Impact and urgency: 1 is the highest."""

    HIGH = 1, "1 - High"
    MEDIUM = 2, "2 - Medium"
    LOW = 3, "3 - Low"


class Priority(models.IntegerChoices):
    CRITICAL = 1, "P1 - Critical"
    HIGH = 2, "P2 - High"
    MODERATE = 3, "P3 - Moderate"
    LOW = 4, "P4 - Low"
    PLANNING = 5, "P5 - Planning"


class Service(models.Model):
    """A business service that tickets are about (the CMDB grows this later)."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    owner_team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A node of the category tree (e.g. Hardware > Laptop > Battery)."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=400, editable=False, db_index=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name")
        ]

    def __str__(self) -> str:
        return self.path

    def save(self, *args, **kwargs):
        self.path = f"{self.parent.path} > {self.name}" if self.parent else self.name
        super().save(*args, **kwargs)


class PriorityRule(models.Model):
    """One cell of the impact x urgency matrix; admins edit the matrix in the admin."""

    impact = models.PositiveSmallIntegerField(choices=Level.choices)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="priority_matrix_cell")
        ]

    def __str__(self) -> str:
        return f"impact {self.impact} x urgency {self.urgency} -> P{self.priority}"


class NumberCounter(models.Model):
    """Last number issued per kind (SQLite); PostgreSQL uses one sequence per kind instead."""

    kind = models.CharField(max_length=10, primary_key=True)
    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind}: {self.last}"


@dataclass(frozen=True)
class VisibleParts:
    """What a person may see, in two parts: whole organisations and teams (every ticket of
    theirs; `everything` for administrators), and tickets they see personally (requested,
    watched, assigned), which may belong to other organisations. Reports read pre-aggregated
    figures for the whole parts and count the personal tickets outside them one by one."""

    everything: bool = False
    organizations: tuple[int, ...] = ()
    teams: tuple[int, ...] = ()
    personal: Q | None = None

    def whole(self) -> Q | None:
        """Rows (tickets, or anything with `organization_id` and `team_id`) in the whole parts:
        an empty Q for everything, None for nothing."""
        if self.everything:
            return Q()
        condition = None
        if self.organizations:
            condition = Q(organization_id__in=self.organizations)
        if self.teams:
            teams = Q(team_id__in=self.teams)
            condition = teams if condition is None else condition | teams
        return condition


def visible_parts(user, *, in_one_query: bool = False) -> VisibleParts:
    """The visibility rule (decision 0003): admins all; staff the organisations they may see
    (the provider and those their teams serve), their teams' work, and what they are assigned,
    asked for or watch; requesters their own, ones they watch, their organisation's if it
    shares. `Ticket.objects.visible_to` is this as a query."""
    if not user.is_authenticated or not user.is_active:
        return VisibleParts()
    if user.has_capability("visibility.all"):
        return VisibleParts(everything=True)
    if in_one_query:  # see TicketQuerySet.visible_to
        watched_by_user = Watcher.objects.filter(user=user).values("ticket_id")
        personal = Q(requester=user) | Q(pk__in=watched_by_user)
    else:
        # Ids, not a subquery: an OR with a subquery keeps PostgreSQL from combining indexes.
        watched = list(Watcher.objects.filter(user=user).values_list("ticket_id", flat=True))
        personal = Q(requester=user) | Q(pk__in=watched) if watched else Q(requester=user)
    if user.is_staff_member:
        team_ids, org_ids = scope.staff_scope(user)
        return VisibleParts(
            organizations=tuple(org_ids),
            teams=tuple(team_ids),
            personal=Q(assignee=user) | personal,
        )
    org = user.organization
    shared = (org.pk,) if org is not None and org.requesters_see_org_tickets else ()
    return VisibleParts(organizations=shared, personal=personal)


class TicketQuerySet(models.QuerySet["Ticket"]):
    def visible_to(self, user, *, in_one_query: bool = False) -> TicketQuerySet:
        """Admins: all. Staff: the organisations they may see (the provider and those their
        teams serve, see decision 0003), their teams' work, and what they are assigned, asked
        for or watch. Requesters: their own, ones they watch, their organisation's if it shares.
        The rule is `visible_parts`: its whole parts, or the tickets seen personally.

        `in_one_query` reads the watched tickets in a subquery of the one query, instead of
        fetching their ids first: for lookups of a few tickets by number (the numbers written
        in a comment), where the index combining the ids keep does not matter.
        """
        parts = visible_parts(user, in_one_query=in_one_query)
        if parts.everything:
            return self
        whole, personal = parts.whole(), parts.personal
        if whole is None or personal is None:
            condition = whole if personal is None else personal
            return self.none() if condition is None else self.filter(condition)
        return self.filter(whole | personal)

    def open(self) -> TicketQuerySet:
        """Open work, as the workflows declare it (the partial indexes' predicate)."""
        return self.exclude(status__in=workflows.closed_statuses())


# The closed statuses the partial indexes below leave out. An index condition is frozen into a
# migration, so this is the one status set written down; tests/tickets/test_status_sets.py
# fails when it and the workflows disagree (a practice adding a closed status updates it here,
# in the same order as workflows.closed_statuses(), and makes a migration).
INDEXED_CLOSED_STATUSES = ("resolved", "closed", "cancelled")


def is_visible_to(ticket: Ticket, user) -> bool:
    """`Ticket.objects.visible_to(user)` for one ticket already read, in Python: the detail
    read fetches by number and checks here, instead of compiling the scope into its query.
    Keep the two in step; tests/tickets/test_visibility_rule.py compares them on every branch.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.has_capability("visibility.all"):
        return True
    if ticket.requester_id == user.pk:
        return True
    if user.is_staff_member:
        team_ids, org_ids = scope.staff_scope(user)
        if (
            ticket.organization_id in org_ids
            or ticket.team_id in team_ids
            or ticket.assignee_id == user.pk
        ):
            return True
    else:
        org = user.organization
        if org is not None and org.requesters_see_org_tickets and ticket.organization_id == org.pk:
            return True
    return Watcher.objects.filter(user=user, ticket_id=ticket.pk).exists()


class Ticket(models.Model):
    """Every work item: incident, service request, problem, change or task."""

    class Source(models.TextChoices):
        PORTAL = "portal", "Portal"
        EMAIL = "email", "Email"
        API = "api", "API"
        PHONE = "phone", "Phone"
        MONITORING = "monitoring", "Monitoring"
        AGENT = "agent", "Agent"

    class HoldReason(models.TextChoices):
        AWAITING_REQUESTER = "awaiting_requester", "Awaiting requester"
        AWAITING_VENDOR = "awaiting_vendor", "Awaiting vendor"
        AWAITING_CHANGE = "awaiting_change", "Awaiting change"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.BigIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # requester, organization, team and assignee lead composite indexes (Meta), which serve
    # their lookups too: an index of their own is one more to write on every change.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requested_tickets",
        db_index=False,
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True)
    impact = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.PLANNING)
    priority_overridden = models.BooleanField(default=False)
    status = models.CharField(max_length=20, default="new")
    hold_reason = models.CharField(max_length=20, choices=HoldReason.choices, blank=True)
    resolution_code = models.CharField(max_length=30, blank=True)
    resolution_notes = models.TextField(blank=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.PORTAL)
    is_major = models.BooleanField(default=False)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reassignment_count = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    objects = TicketQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="ticket_number_per_kind"),
        ]
        indexes = [
            # The agent queue: a team's (or one agent's) open work by priority then age. Only
            # open tickets are indexed, in the queue's order, so a page is read straight off
            # the index instead of sorting every open ticket of a large team.
            models.Index(
                fields=["team", "priority", "created_at", "id"],
                condition=~Q(status__in=INDEXED_CLOSED_STATUSES),
                name="t_open_team_queue",
            ),
            models.Index(
                fields=["assignee", "priority", "created_at", "id"],
                condition=~Q(status__in=INDEXED_CLOSED_STATUSES),
                name="t_open_assignee_queue",
            ),
            # The unassigned queue. IS NULL is no equality to PostgreSQL's planner, so the
            # assignee index above cannot give its order: a large unassigned backlog was sorted
            # whole for every page (220 ms at 350,000 open tickets; 28 ms with this index).
            models.Index(
                fields=["priority", "created_at", "id"],
                condition=Q(assignee__isnull=True) & ~Q(status__in=INDEXED_CLOSED_STATUSES),
                name="t_open_unassigned_queue",
            ),
            models.Index(fields=["team", "status", "priority", "created_at"], name="t_queue"),
            models.Index(fields=["assignee", "status", "priority"], name="t_assignee"),
            models.Index(fields=["organization", "status"], name="t_org_status"),
            models.Index(fields=["requester", "created_at"], name="t_requester"),
            models.Index(fields=["status", "priority", "created_at"], name="t_status_prio"),
            # With the id, as the sorts end: rows with the same time need no sort of their own.
            models.Index(fields=["updated_at", "id"], name="t_updated_id"),
            models.Index(fields=["created_at", "id"], name="t_created_id"),
            models.Index(fields=["status", "resolved_at"], name="t_resolved"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return format_number(self.kind, self.number)

    @property
    def is_open(self) -> bool:
        return workflows.is_open(self.kind, self.status)


class CommentQuerySet(models.QuerySet["Comment"]):
    def visible_to(self, user) -> CommentQuerySet:
        """Comments of tickets the user sees; requesters never see internal notes."""
        qs = self.filter(ticket__in=Ticket.objects.visible_to(user))
        if not user.is_authenticated or not user.has_capability("ticket.internal_note"):
            qs = qs.filter(is_internal=False)
        return qs


class Comment(models.Model):
    """A public reply (the requester sees it) or an internal note (staff only)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    is_internal = models.BooleanField(default=False)
    source = models.CharField(max_length=12, choices=Ticket.Source.choices, default="portal")
    created_at = models.DateTimeField(default=timezone.now)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="c_ticket")]

    def __str__(self) -> str:
        return f"{'note' if self.is_internal else 'reply'} on {self.ticket_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """attachments/<year>/<month>/<ticket id>/<random>-<name>: the random part makes the name
    new, so a failed write is known to be ours to remove (core.storage.save_new)."""
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{instance.ticket_id}/{secrets.token_hex(8)}-{filename}"


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def visible_to(self, user) -> AttachmentQuerySet:
        qs = self.filter(ticket__in=Ticket.objects.visible_to(user))
        if not user.is_authenticated or not user.has_capability("ticket.internal_note"):
            qs = qs.filter(is_internal=False)
        return qs


class Attachment(models.Model):
    """A file on a ticket (or on one of its comments), stored through Django's storage API."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    is_internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class Link(models.Model):
    """A typed relation between two tickets (parent/child lives on Ticket.parent)."""

    class Type(models.TextChoices):
        DUPLICATE_OF = "duplicate_of", "Duplicate of"
        CAUSED_BY = "caused_by", "Caused by"
        RELATED_TO = "related_to", "Related to"

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    type = models.CharField(max_length=20, choices=Type.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "type"], name="link_unique"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="link_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.type} {self.target_id}"


class Watcher(models.Model):
    """Someone kept informed of a ticket (a CC); requesters who watch may also see it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="watchers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="watcher_unique"),
        ]
        indexes = [models.Index(fields=["user"], name="w_user")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.ticket_id}"
