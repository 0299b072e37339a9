"""Portal forms: short, in the requester's words; the ticket services do the checking."""

from __future__ import annotations

from django import forms


class TicketForm(forms.Form):
    """Report a problem or ask for something. "How bad is it?" and "Who is affected?" offer the
    admins' answers (`PortalAnswer`); the portal's service turns them into urgency and impact."""

    title = forms.CharField(max_length=200, label="What is wrong?")
    description = forms.CharField(
        required=False,
        max_length=100000,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Details",
        help_text="What happened, since when, what you already tried. Markdown works.",
    )
    how_bad = forms.ChoiceField(widget=forms.RadioSelect, label="How bad is it?")
    affected = forms.ChoiceField(widget=forms.RadioSelect, label="Who is affected?")
    service = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, choices=(), label="Which service?"
    )

    def __init__(self, *args, kind: str = "incident", services=(), answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kind == "request":
            self.fields["title"].label = "What do you need?"
            self.fields[
                "description"
            ].help_text = "Who needs it, by when, and anything we should know."
            self.fields["how_bad"].label = "How much does waiting for it hold you up?"
            self.fields["affected"].label = "Who needs it?"
        for name in ("how_bad", "affected"):
            offered = (answers or {}).get(name, [])
            if not offered:  # the admins took the question off the form
                del self.fields[name]
                continue
            self.fields[name].choices = [(a.code, a.wording) for a in offered]
            # Preselected: the mildest answer (the highest level number), as before.
            self.fields[name].initial = max(offered, key=lambda a: a.level).code
        self.fields["service"].choices = [("", "I don't know")] + [(s.pk, s.name) for s in services]


class TicketListForm(forms.Form):
    """The portal list's filters: whose tickets, open or closed, and words or a number."""

    scope = forms.ChoiceField(
        required=False, choices=[("mine", "Mine"), ("organization", "My organisation's")]
    )
    show = forms.ChoiceField(
        required=False,
        choices=[("all", "All"), ("open", "Open"), ("closed", "Closed")],
        label="Show",
    )
    q = forms.CharField(required=False, max_length=200, label="Search your tickets")

    def value(self, name: str, default: str) -> str:
        """The field's valid value, or `default` (a bad value is shown beside its field)."""
        if not self.is_valid() and name in self.errors:
            return default
        return self.cleaned_data.get(name) or default


class ReplyForm(forms.Form):
    body = forms.CharField(
        required=False,
        max_length=100000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Your reply",
    )


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        coerce=int,
        widget=forms.RadioSelect,
        choices=[
            (5, "5 — Excellent"),
            (4, "4 — Good"),
            (3, "3 — Fair"),
            (2, "2 — Poor"),
            (1, "1 — Very poor"),
        ],
        label="How did we do?",
    )
    comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Anything to add? (optional)",
    )
