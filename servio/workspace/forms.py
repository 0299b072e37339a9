"""Forms of the agent workspace: they parse and show errors; the services decide."""

from __future__ import annotations

import datetime as dt

from django import forms

from servio.core.errors import ValidationFailed
from servio.reporting import zones
from servio.tickets.filters import SORTS
from servio.tickets.models import Kind, Level, Priority
from servio.workspace.services import BULK_ACTIONS

STATUS_CHOICES = [
    ("new", "New"),
    ("in_progress", "In progress"),
    ("on_hold", "On hold"),
    ("resolved", "Resolved"),
    ("closed", "Closed"),
    ("cancelled", "Cancelled"),
]
OPEN_CHOICES = [("", "Open and finished"), ("true", "Open only"), ("false", "Finished only")]
# The dashboard's sets (TicketFilter's report filters): a figure's link carries them; the
# queue keeps them as hidden fields and says in words what they select.
REPORT_DAYS = ("resolved_after", "resolved_before", "sla_after", "sla_before", "rated_after",
               "rated_before")  # fmt: skip
REPORT_FLAGS = {
    "no_team": "without a team",
    "responded": "answered by staff",
    "first_contact": "resolved at first contact",
    "reassigned": "reassigned at least once",
    "reopened": "reopened at least once",
}
REPORT_KEYS = ("tz", *REPORT_DAYS, *REPORT_FLAGS, "sla", "rating")
SORT_LABELS = {
    "priority": "Priority (most urgent first)",
    "-priority": "Priority (least urgent first)",
    "created": "Oldest first",
    "-created": "Newest first",
    "updated": "Least recently updated",
    "-updated": "Recently updated",
    "number": "Number (ascending)",
    "-number": "Number (descending)",
}


class FilterForm(forms.Form):
    """The TicketFilter fields an agent sets in a queue; TicketFilter validates them."""

    q = forms.CharField(required=False, max_length=200, label="Number or words")
    kind = forms.MultipleChoiceField(required=False, choices=Kind.choices, label="Kind")
    status = forms.MultipleChoiceField(required=False, choices=STATUS_CHOICES, label="Status")
    priority = forms.TypedMultipleChoiceField(
        required=False, coerce=int, choices=Priority.choices, label="Priority"
    )
    team = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=(), label="Team")
    assignee = forms.CharField(required=False, max_length=20, label="Assignee")
    organization = forms.TypedMultipleChoiceField(
        required=False, coerce=int, choices=(), label="Organisation"
    )
    service = forms.TypedMultipleChoiceField(
        required=False, coerce=int, choices=(), label="Service"
    )
    open = forms.ChoiceField(required=False, choices=OPEN_CHOICES, label="State")
    is_major = forms.NullBooleanField(required=False, label="Major incidents only")
    created_after = forms.DateField(
        required=False, label="Created from", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = forms.DateField(
        required=False, label="Created before", widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(k, SORT_LABELS[k]) for k in SORTS if k in SORT_LABELS],
        label="Sort",
    )
    # The dashboard's sets: dates are days in `tz` (default UTC), as on the dashboard.
    tz = forms.CharField(required=False, max_length=64, label="Days in")
    resolved_after = forms.DateField(required=False, label="Resolved from")
    resolved_before = forms.DateField(required=False, label="Resolved before")
    sla = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), ("met", "SLA met"), ("breached", "SLA breached")],
        label="SLA",
    )
    sla_after = forms.DateField(required=False, label="SLA ended (or breached, if open) from")
    sla_before = forms.DateField(required=False, label="SLA ended (or breached, if open) before")
    rated_after = forms.DateField(required=False, label="Rated from")
    rated_before = forms.DateField(required=False, label="Rated before")
    rating = forms.TypedMultipleChoiceField(
        required=False, coerce=int, choices=[(r, str(r)) for r in range(1, 6)], label="Rating"
    )
    no_team = forms.NullBooleanField(required=False, label="Without a team")
    responded = forms.NullBooleanField(required=False, label="Answered by staff")
    first_contact = forms.NullBooleanField(required=False, label="Resolved at first contact")
    reassigned = forms.NullBooleanField(required=False, label="Reassigned")
    reopened = forms.NullBooleanField(required=False, label="Reopened")

    def __init__(
        self, *args, teams=(), organizations=(), services=(), default_zone=dt.UTC, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.default_zone = default_zone
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]
        self.fields["organization"].choices = [(o.pk, o.name) for o in organizations]
        self.fields["service"].choices = [(s.pk, s.name) for s in services]

    def clean_tz(self) -> str:
        name = self.cleaned_data["tz"].strip()
        if name:
            try:
                zones.zone_named(name)
            except ValidationFailed as exc:
                raise forms.ValidationError(
                    "Unknown time zone: choose an IANA name such as Europe/Berlin."
                ) from exc
        return name

    def zone(self):
        """The time zone of the form's days: the one `tz` names, else the viewer's own."""
        name = self.cleaned_data.get("tz") if hasattr(self, "cleaned_data") else None
        return zones.zone_named(name) if name else self.default_zone

    def zone_name(self) -> str:
        return getattr(self.zone(), "key", "UTC")

    def report_description(self) -> list[str]:
        """The dashboard's sets in force, in words (shown above the queue)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        zone = self.zone_name()
        words = []
        verdict = {"met": "SLA met", "breached": "SLA breached"}.get(data.get("sla") or "")
        for name, label in (
            ("resolved", "resolved"),
            ("sla", f"{verdict or 'SLA'}, clock ended (or due, if still open)"),
            ("rated", "rated"),
        ):
            first, after = data.get(f"{name}_after"), data.get(f"{name}_before")
            if first or after:
                span = " ".join(
                    part
                    for part in (
                        f"from {first:%Y-%m-%d}" if first else "",
                        f"to {after - dt.timedelta(days=1):%Y-%m-%d}" if after else "",
                    )
                    if part
                )
                words.append(f"{label} {span} (days in {zone})")
        if verdict and not (data.get("sla_after") or data.get("sla_before")):
            words.append(verdict)
        if data.get("rating"):
            words.append("rated " + " or ".join(str(r) for r in data["rating"]))
        words += [label for key, label in REPORT_FLAGS.items() if data.get(key)]
        if (data.get("created_after") or data.get("created_before")) and zone != "UTC":
            words.append(f"creation days in {zone}")
        return words

    def filter_values(self) -> dict:
        """Cleaned values as TicketFilter keyword arguments (empty ones left out)."""
        data = dict(self.cleaned_data)
        if data.get("open") in ("true", "false"):
            data["open"] = data["open"] == "true"
        else:
            data.pop("open", None)
        for flag in ("is_major", *REPORT_FLAGS):
            if not data.get(flag):
                data.pop(flag, None)
        data.pop("tz", None)  # read by zone()
        return {k: v for k, v in data.items() if v not in (None, "", [])}


class BulkForm(forms.Form):
    """One action for the selected tickets; only the fields the action needs are shown. Team
    and person are typed into searchable lists (their names), and found among `teams` and
    `people` here; the services check the rest."""

    action = forms.ChoiceField(
        choices=[(name, name) for name in BULK_ACTIONS],  # worded in workspace/_bulk.html
        label="With the selected tickets",
        error_messages={"required": "Choose what to do with the selected tickets."},
    )
    team = forms.CharField(required=False, max_length=200, label="Team")
    assignee = forms.CharField(required=False, max_length=400, label="Person")
    transition = forms.CharField(required=False, max_length=40, label="Status change")
    resolution_code = forms.CharField(required=False, max_length=30)
    resolution_notes = forms.CharField(required=False, max_length=100000, widget=forms.Textarea)
    hold_reason = forms.CharField(required=False, max_length=30)
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
    body = forms.CharField(required=False, max_length=100000, widget=forms.Textarea)
    visibility = forms.ChoiceField(
        required=False,
        choices=[("internal", "Internal note"), ("public", "Reply to each requester")],
    )

    TRANSITION_FIELDS = ("resolution_code", "resolution_notes", "hold_reason", "reason")

    def __init__(self, *args, teams=(), people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.teams = list(teams)
        self.people = list(people)

    def clean_team(self):
        text = self.cleaned_data["team"].strip()
        if not text or self.data.get("action") != "assign":
            return None
        found = [t for t in self.teams if t.name.casefold() == text.casefold()]
        if not found:
            raise forms.ValidationError(f"No team you may assign to is called “{text}”.")
        return found[0]

    def clean_assignee(self):
        text = self.cleaned_data["assignee"].strip()
        if not text or self.data.get("action") != "assign":
            return None
        found = [p for p in self.people if text.casefold() in _names(p)]
        if len(found) != 1:
            raise forms.ValidationError(
                f"Nobody in the list is “{text}”: type a name and choose from the list."
                if not found
                else f"Several people match “{text}”: choose one from the list."
            )
        return found[0]

    def transition_values(self) -> dict[str, str]:
        """The values typed for the status change's fields (blank ones left out)."""
        data = self.cleaned_data
        return {k: data[k].strip() for k in self.TRANSITION_FIELDS if data.get(k, "").strip()}


def person_label(person) -> str:
    """How a person appears in a searchable list: name and address (names repeat)."""
    return f"{person.get_full_name()} ({person.email})"


def _names(person) -> set[str]:
    return {
        person_label(person).casefold(),
        person.email.casefold(),
        person.get_full_name().casefold(),
    }


class OfferedId(forms.IntegerField):
    """An id picked from the choices a page offers; whether it may be picked is for the
    service to say, so a refusal reads the same wherever it comes from."""

    widget = forms.Select

    def __init__(self, *, choices=(), **kwargs):
        super().__init__(min_value=1, **kwargs)
        self.choices = list(choices)


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=80, label="Name of the view")
    team = OfferedId(required=False, label="Share with")

    def __init__(self, *args, teams=(), **kwargs):
        kwargs.setdefault("auto_id", "id_save_%s")  # the queue's filters have a team too
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "Only me")] + [(t.pk, t.name) for t in teams]


class CommentForm(forms.Form):
    body = forms.CharField(
        required=False, max_length=100000, widget=forms.Textarea, label="Message"
    )
    visibility = forms.ChoiceField(
        choices=[("public", "Reply to the requester"), ("internal", "Internal note")],
        initial="public",
    )


EVERYONE = "everyone"


class CannedResponseForm(forms.Form):
    """Title, Markdown text with variables, and who it is for: only me, a team, everyone."""

    title = forms.CharField(max_length=120)
    body = forms.CharField(max_length=10000, widget=forms.Textarea(attrs={"rows": 7}), label="Text")
    team = forms.CharField(required=False, max_length=20, widget=forms.Select, label="For")

    def __init__(self, *args, teams=(), everyone=False, **kwargs):
        super().__init__(*args, **kwargs)
        offered = [("", "Only me")] + [(str(t.pk), f"Team: {t.name}") for t in teams]
        if everyone:
            offered.append((EVERYONE, "Every agent"))
        self.fields["team"].choices = offered

    def clean_team(self) -> str:
        raw = self.cleaned_data.get("team") or ""
        if raw not in ("", EVERYONE) and not (raw.isdigit() and len(raw) < 12):
            raise forms.ValidationError("Choose who the response is for.")
        return raw

    def audience(self) -> dict:
        """The service's `team` and `for_everyone` arguments from the "For" choice."""
        raw = self.cleaned_data.get("team") or ""
        if raw == EVERYONE:
            return {"team": None, "for_everyone": True}
        return {"team": int(raw) if raw else None, "for_everyone": False}


LEVEL_CHOICES = Level.choices
PRIORITY_CHOICES = Priority.choices


class NewTicketForm(forms.Form):
    """An agent logs a ticket on someone's behalf (a phone call, a walk-up)."""

    requester = forms.EmailField(label="Requester's email address")
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.INCIDENT, label="Kind")
    title = forms.CharField(max_length=200, label="Title")
    description = forms.CharField(
        required=False, max_length=100000, widget=forms.Textarea(attrs={"rows": 5})
    )
    impact = forms.TypedChoiceField(coerce=int, choices=Level.choices, initial=Level.LOW)
    urgency = forms.TypedChoiceField(coerce=int, choices=Level.choices, initial=Level.LOW)
    service = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, choices=())
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, choices=())
    assign_to_me = forms.BooleanField(required=False, label="Assign it to me")
    source = forms.ChoiceField(
        choices=[("phone", "Phone"), ("agent", "In person / other"), ("email", "Email")],
        initial="phone",
        label="Reported by",
    )

    def __init__(self, *args, services=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "—")] + [(s.pk, s.name) for s in services]
        self.fields["team"].choices = [("", "—")] + [(t.pk, t.name) for t in teams]
