"""Template components shared by the workspace and the portal: badges, fields, Markdown."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from servio.core.text import render_markdown
from servio.sla.models import ClockState, SlaTarget
from servio.tickets import workflows

register = template.Library()

STATUS_COLOURS = {
    "new": "blue",
    "in_progress": "azure",
    "on_hold": "yellow",
    "resolved": "green",
    "closed": "secondary",
    "cancelled": "secondary",
}
PRIORITY_COLOURS = {1: "red", 2: "orange", 3: "yellow", 4: "azure", 5: "secondary"}
PRIORITY_NAMES = {1: "Critical", 2: "High", 3: "Moderate", 4: "Low", 5: "Planning"}
_STATUS_LABELS: dict[tuple[str, str], str] = {}


def status_text(kind: str, status: str) -> str:
    key = (kind, status)
    if key not in _STATUS_LABELS:
        try:
            _STATUS_LABELS[key] = workflows.get(kind).state(status).label
        except (LookupError, KeyError):
            _STATUS_LABELS[key] = status.replace("_", " ").capitalize()
    return _STATUS_LABELS[key]


@register.simple_tag
def status_badge(ticket) -> str:
    """The ticket's status as a coloured badge with its workflow label."""
    colour = STATUS_COLOURS.get(ticket.status, "secondary")
    return format_html(
        '<span class="badge bg-{}-lt status-badge" data-status="{}">{}</span>',
        colour,
        ticket.status,
        status_text(ticket.kind, ticket.status),
    )


@register.simple_tag
def priority_badge(priority) -> str:
    """P1..P5 with the name spelled out for screen readers."""
    value = int(priority)
    return format_html(
        '<span class="badge bg-{}-lt priority-badge" title="{}">P{}'
        '<span class="visually-hidden"> {}</span></span>',
        PRIORITY_COLOURS.get(value, "secondary"),
        PRIORITY_NAMES.get(value, ""),
        value,
        PRIORITY_NAMES.get(value, ""),
    )


def local_text(value: dt.datetime, with_zone: bool = False) -> str:
    """An aware time as the reader reads it: in the active zone (the signed-in person's,
    `accounts.middleware`), in the locale's short format; `with_zone` adds the zone's
    abbreviation (CET, EST)."""
    local = timezone.localtime(value)
    text = formats.date_format(local, "SHORT_DATETIME_FORMAT")
    return f"{text} {local.tzname()}" if with_zone else text


def _left(seconds: float) -> str:
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def _due_colour(due_at, breached: bool) -> tuple[float, str]:
    """Seconds left until `due_at` and the badge colour: red when breached or overdue, orange
    within the hour, else green (one rule for every countdown badge)."""
    remaining = (due_at - dt.datetime.now(dt.UTC)).total_seconds()
    if breached or remaining < 0:
        return remaining, "red"
    return remaining, "orange" if remaining < 3600 else "green"


@register.simple_tag
def sla_badge(due_at, breached=False, paused=False, label="") -> str:
    """A countdown to an SLA due time; servio.js keeps it ticking in the browser."""
    if due_at is None:
        if paused:
            return format_html(
                '<span class="badge bg-secondary-lt sla-badge">{} paused</span>', label
            )
        return mark_safe('<span class="text-secondary">—</span>')
    remaining, colour = _due_colour(due_at, breached)
    text = f"overdue {_left(remaining)}" if colour == "red" else f"{_left(remaining)} left"
    prefix = f"{label} " if label else ""
    return format_html(
        '<span class="badge bg-{}-lt sla-badge" data-sla-due="{}" data-sla-label="{}"'
        ' title="Due {}">{}{}</span>',
        colour,
        due_at.isoformat(),
        prefix,
        local_text(due_at, with_zone=True),
        prefix,
        text,
    )


def _clock_word(label: str) -> str:
    """The word a narrow cell names an SLA clock by: the last word of its metric's label
    ("First response" gives "Response")."""
    return label.split()[-1].capitalize()


# Derived from `SlaTarget.Metric`, the one place a clock's name is written (DESIGN rule 8);
# `tests/web/test_ui_tags.py` holds the words distinct, so no two clocks read alike.
CLOCK_WORDS = {metric.value: _clock_word(metric.label) for metric in SlaTarget.Metric}


def sla_due_badge(due_at, breached: bool, metric: str) -> str:
    """The clock a queue row shows, named: "Resolution due in 2h 5m", "Response overdue by
    10m"; servio.js keeps the words and counts down (`data-sla-words`)."""
    if due_at is None:
        return mark_safe(
            '<span class="text-secondary">—'
            '<span class="visually-hidden"> no SLA clock running</span></span>'
        )
    words = CLOCK_WORDS.get(metric, "Due")
    remaining, colour = _due_colour(due_at, breached)
    verb = "overdue by" if colour == "red" else "due in"
    text = f"{words} {verb} {_left(remaining)}"
    return format_html(
        '<span class="badge bg-{}-lt sla-badge" data-sla-due="{}" data-sla-words="{}"'
        ' title="{} due {}">{}</span>',
        colour,
        due_at.isoformat(),
        words,
        words,
        local_text(due_at, with_zone=True),
        text,
    )


# How an SLA clock that stopped counting ended: badge colour and the words after its name.
CLOCK_ENDINGS = {
    "met": ("green", "met", "Stopped within its target."),
    "breached": ("red", "breached", "Stopped after its due time."),
    "cancelled": (
        "secondary",
        "cancelled",
        "The ticket was cancelled: the clock ended without a verdict, neither met nor breached.",
    ),
}


@register.simple_tag
def clock_badge(clock: dict) -> str:
    """One SLA clock of a ticket (`sla.selectors.clock_view`), in words that follow its state:
    counting down (running, or breached and still counting), paused, or how it ended."""
    metric = clock["metric"]
    label = (
        SlaTarget.Metric(metric).label
        if metric in SlaTarget.Metric.values
        else str(metric).replace("_", " ").capitalize()
    )
    state = clock["state"]
    if state == ClockState.PAUSED:
        return sla_badge(None, False, True, label)
    if clock["stopped_at"] is None:
        return sla_badge(clock["due_at"], clock["breached"], False, label)
    colour, words, title = CLOCK_ENDINGS.get(state, ("secondary", str(state).replace("_", " "), ""))
    if state == ClockState.CANCELLED and clock["breached"]:
        title += " It had passed its due time before."
    return format_html(
        '<span class="badge bg-{}-lt sla-badge" data-clock-state="{}" title="{}">{} {}</span>',
        colour,
        state,
        title,
        label,
        words,
    )


@register.filter
def markdown(text: str) -> str:
    """User Markdown rendered and sanitised (allow-list) for the page."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitised by nh3


@register.filter
def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1048576:.1f} MB"


@register.inclusion_tag("ui/field.html")
def field(bound, label=None, help_text=None, **attrs):
    """A form field with its label, and its errors beside it (keeps what the user typed)."""
    return {
        "f": bound,
        "label": label or bound.label,
        "help": help_text if help_text is not None else bound.help_text,
        "attrs": attrs,
    }


def _select(bound, final: dict) -> str:
    """A <select> rendered directly (Django renders every option through a template, which
    costs milliseconds per field on pages an agent reloads all day)."""
    widget = bound.field.widget
    value = bound.value()
    chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value])}
    attrs = {**widget.attrs, **final, "name": bound.html_name, "id": bound.auto_id}
    if widget.allow_multiple_selected:
        attrs["multiple"] = True
    if bound.field.required and not widget.allow_multiple_selected:
        attrs["required"] = True
    rendered_attrs = format_html_join(
        "", " {}", ((k if v is True else format_html('{}="{}"', k, v),) for k, v in attrs.items())
    )
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (v, mark_safe(" selected") if str(v) in chosen else "", label)
            for v, label in bound.field.choices
        ),
    )
    return format_html("<select{}>{}</select>", rendered_attrs, options)


@register.simple_tag
def picker(bound, empty: str = "Any") -> str:
    """A multiple-choice field as a searchable picker: a button that names what is chosen and
    opens a list of check boxes with a search box (servio.js filters it as one types). Without
    JavaScript the check boxes still submit; rendered in Python, like `_select`, because
    organisation and service lists can be long."""
    value = bound.value()
    chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value]) if v}
    choices = [(str(v), str(label)) for v, label in bound.field.choices]
    names = [label for v, label in choices if v in chosen]
    auto = bound.auto_id
    invalid = (
        format_html(' aria-invalid="true" aria-describedby="{}-errors"', auto)
        if bound.errors
        else ""
    )
    options = format_html_join(
        "",
        '<label><input type="checkbox" name="{}" value="{}"{}> {}</label>',
        (
            (bound.html_name, v, mark_safe(" checked") if v in chosen else "", label)
            for v, label in choices
        ),
    )
    errors = (
        format_html(
            '<div class="invalid-feedback d-block" id="{}-errors" role="alert">{}</div>',
            auto,
            " ".join(str(e) for e in bound.errors),
        )
        if bound.errors
        else ""
    )
    return format_html(
        '<div class="mb-3 picker" data-picker>'
        '<div class="form-label" id="{0}-label">{1}</div>'
        '<details class="picker-menu" data-popover>'
        '<summary class="form-select{2}" aria-labelledby="{0}-label {0}-chosen"{3}>'
        '<span id="{0}-chosen" data-picker-chosen data-picker-empty="{4}">{5}</span></summary>'
        '<div class="picker-panel card card-body p-2">'
        '<input type="search" class="form-control form-control-sm mb-2" data-picker-search'
        ' placeholder="Search" aria-label="Search {6}" autocomplete="off">'
        '<fieldset class="picker-list" id="{0}" aria-labelledby="{0}-label">{7}</fieldset>'
        '<p class="picker-none small text-secondary mb-0" hidden>Nothing matches.</p>'
        "</div></details>{8}</div>",
        auto,
        bound.label,
        " is-invalid" if bound.errors else "",
        invalid,
        empty,
        ", ".join(names) if names else empty,
        bound.label.lower(),
        options,
        errors,
    )


@register.simple_tag
def widget(bound, **attrs):
    """Render a bound field's widget with Tabler classes and ARIA error wiring."""
    classes = {
        "CheckboxInput": "form-check-input",
        "Select": "form-select",
        "SelectMultiple": "form-select",
        "RadioSelect": "",
        "CheckboxSelectMultiple": "",
    }.get(type(bound.field.widget).__name__, "form-control")
    if bound.errors and classes:
        classes += " is-invalid"
    final = {"class": classes} if classes else {}
    if bound.errors:
        final["aria-invalid"] = "true"
        final["aria-describedby"] = f"{bound.auto_id}-errors"
    elif bound.help_text:
        final["aria-describedby"] = f"{bound.auto_id}-help"
    final.update({k.replace("_", "-"): v for k, v in attrs.items()})
    if type(bound.field.widget).__name__ in ("Select", "SelectMultiple"):
        return _select(bound, final)
    return bound.as_widget(attrs=final)


@register.filter
def can(user, capability: str) -> bool:
    """`{% if user|can:"reports.read" %}`: the role-based capability check of accounts.roles."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_capability(capability)


@register.simple_tag
def query(params: dict, **changes) -> str:
    """`?` + params with some keys replaced (None removes a key); for sort and page links."""
    from urllib.parse import urlencode

    merged = {k: v for k, v in params.items() if k != "cursor"}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return "?" + urlencode(merged, doseq=True)


@register.simple_tag
def sort_link(params: dict, current: str, key: str) -> str:
    """The query string that sorts by `key`, flipping the direction when already sorted by it."""
    target = f"-{key}" if current == key else key
    return query(params, sort=target)


@register.simple_tag
def aria_sort(current: str, key: str) -> str:
    if current == key:
        return "ascending" if key != "priority" else "descending"
    if current == f"-{key}":
        return "descending" if key != "priority" else "ascending"
    return "none"


@register.filter
def humanize(code: str) -> str:
    """A stored code (no_fault_found) as words (no fault found)."""
    return (code or "").replace("_", " ")


@register.simple_tag
def unread_count(user) -> int:
    """Unread in-app notifications of this person (one indexed count)."""
    from servio.notifications.models import Notification

    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def ago(value: dt.datetime, now: dt.datetime) -> str:
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "just now"
    return f"{_left(seconds)} ago"


@register.simple_tag(takes_context=True)
def ticket_row(context, t, href: str, bulk: bool = False) -> str:
    """One ticket in a queue: number, title, status, priority, SLA, requester, assignment,
    last update. Rendered in Python: a queue page has fifty of them."""
    now = context.get("now") or dt.datetime.now(dt.UTC)
    assignee = (
        format_html("{}", t.assignee.get_full_name())
        if t.assignee_id
        else mark_safe('<span class="text-secondary">unassigned</span>')
    )
    select = (
        format_html(
            '<td class="w-1 cell-select"><input class="form-check-input m-0 align-middle" '
            'type="checkbox" name="tickets" value="{}" form="bulk-form" '
            'aria-label="Select {}"></td>',
            t.reference,
            t.reference,
        )
        if bulk
        else ""
    )
    major = mark_safe(' <span class="badge bg-red text-red-fg">major</span>') if t.is_major else ""
    # The cells' classes place them on a card on a phone (servio.css): number and priority,
    # title, status and due time, requester.
    return format_html(
        '<tr data-ticket-row>{}<td class="cell-number text-nowrap">'
        '<a href="{}" data-ticket-link class="fw-bold">{}</a>{}</td>'
        '<td class="title-cell cell-title"><a href="{}" class="text-reset" tabindex="-1">{}</a>'
        "</td>"
        '<td class="cell-status">{}</td><td class="cell-priority">{}</td>'
        '<td class="cell-sla">{}</td>'
        '<td class="cell-requester">{}<span class="sub"> · {}</span></td>'
        '<td class="cell-assignee hide-sm">{}<span class="sub"> · {}</span></td>'
        '<td class="cell-updated hide-sm"><time datetime="{}" title="{}">{}</time></td></tr>',
        select,
        href,
        t.reference,
        major,
        href,
        t.title,
        status_badge(t),
        priority_badge(t.priority),
        sla_due_badge(
            getattr(t, "sla_due_at", None),
            getattr(t, "sla_breached", False),
            getattr(t, "sla_metric", ""),
        ),
        t.requester.get_full_name(),
        t.organization.name,
        assignee,
        t.team.name if t.team_id else "no team",
        t.updated_at.isoformat(),
        local_text(t.updated_at, with_zone=True),
        ago(t.updated_at, now),
    )
