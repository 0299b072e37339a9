"""Forms of the agent workspace: they parse and show errors; the services decide."""

from __future__ import annotations

from django import forms

from servio.tickets.filters import SORTS
from servio.tickets.models import Kind, Level, Priority

STATUS_CHOICES = [
    ("new", "New"),
    ("in_progress", "In progress"),
    ("on_hold", "On hold"),
    ("resolved", "Resolved"),
    ("closed", "Closed"),
    ("cancelled", "Cancelled"),
]
OPEN_CHOICES = [("", "Open and finished"), ("true", "Open only"), ("false", "Finished only")]
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

    def __init__(self, *args, teams=(), organizations=(), services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]
        self.fields["organization"].choices = [(o.pk, o.name) for o in organizations]
        self.fields["service"].choices = [(s.pk, s.name) for s in services]

    def filter_values(self) -> dict:
        """Cleaned values as TicketFilter keyword arguments (empty ones left out)."""
        data = dict(self.cleaned_data)
        if data.get("open") in ("true", "false"):
            data["open"] = data["open"] == "true"
        else:
            data.pop("open", None)
        if not data.get("is_major"):
            data.pop("is_major", None)
        return {k: v for k, v in data.items() if v not in (None, "", [])}


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("assign_me", "Assign to me"),
            ("assign", "Assign to…"),
            ("transition", "Change status…"),
            ("comment", "Add a note or reply…"),
        ]
    )
    team = forms.IntegerField(required=False, min_value=1)
    assignee = forms.IntegerField(required=False, min_value=1)
    transition = forms.CharField(required=False, max_length=40)
    resolution_code = forms.CharField(required=False, max_length=30)
    resolution_notes = forms.CharField(required=False, max_length=10000, widget=forms.Textarea)
    hold_reason = forms.CharField(required=False, max_length=30)
    body = forms.CharField(required=False, max_length=100000, widget=forms.Textarea)
    internal = forms.BooleanField(required=False)


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
