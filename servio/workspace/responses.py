"""The variables of canned responses, filled in by a small renderer of our own.

A response's text is Markdown written by an agent; `{{ ticket.number }}` and the other names of
`VARIABLES` are replaced by values taken from the ticket. The text is never handed to Django's
template engine (or any other): the only thing that happens to it is one regular-expression
pass that swaps known names for values, so a response (or a ticket title that contains
`{{ ... }}` or `{% ... %}`) can reach nothing but the values offered here. Values are plain
text: Markdown characters in them are escaped, so a title like `*URGENT* <b>` shows as written
and cannot add a link or markup to the reply. The result then goes through the same Markdown
pipeline as every comment (`servio.core.text.render_markdown`, nh3 allow-list) when it is
shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Case, Value, When
from django.utils.safestring import SafeString, mark_safe

from servio.accounts import timezones
from servio.core.text import render_markdown
from servio.sla.models import SlaClock
from servio.tickets.models import Ticket

# name -> what it gives, in the words the responses page shows.
VARIABLES: dict[str, str] = {
    "requester.first_name": "the requester's first name",
    "ticket.number": "the ticket's number, e.g. INC-000123",
    "ticket.title": "the ticket's title",
    "ticket.due": "when the ticket is due: its resolution target, in the requester's time zone",
    "ticket.portal_link": "the link to the ticket in the self-service portal",
    "agent.name": "your name",
    "team.name": "the ticket's team",
}
# Values a preview without a ticket shows.
EXAMPLE_VALUES: dict[str, str] = {
    "requester.first_name": "Rita",
    "ticket.number": "INC-000123",
    "ticket.title": "Printer on the 3rd floor jams",
    "ticket.due": "Tuesday 14 May, 16:00 (Europe/Berlin)",
    "ticket.portal_link": "https://desk.example.com/portal/t/INC-000123/",
    "agent.name": "Sam Agent",
    "team.name": "Service Desk",
}
# Values that are links: written as a Markdown autolink (`<https://...>`), not escaped.
LINKS = frozenset({"ticket.portal_link"})

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
# CommonMark lets any ASCII punctuation be escaped with a backslash; these are the characters
# that can start inline markup (emphasis, code, links, images, raw HTML, entities, tables,
# strikethrough) anywhere in a line.
_INLINE = re.compile(r"([\\`*_\[\]<>!|~&])")
# ...and those that open a block when a value starts a line (heading, quote, list item).
_LINE_START = re.compile(r"^([#+\-=]|\d+[.)])")
_SAFE_URL = re.compile(r"^https?://[^\s<>]+$")


def unknown_variables(body: str) -> list[str]:
    """The `{{ names }}` in `body` that are not variables (in order, once each)."""
    found = (m.group(1) for m in PLACEHOLDER.finditer(body or ""))
    return list(dict.fromkeys(name for name in found if name not in VARIABLES))


def escape_markdown(value: str) -> str:
    """Plain text -> Markdown that shows exactly that text, on one line."""
    text = " ".join(str(value).split())
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_marker, text)


def _escape_marker(match: re.Match[str]) -> str:
    marker = match.group(0)  # "#", "-", "+", "=" or "12." / "3)": escape its last character
    return f"{marker[:-1]}\\{marker[-1]}"


def _value(name: str, raw: str) -> str:
    if name in LINKS:
        return f"<{raw}>" if _SAFE_URL.match(raw) else escape_markdown(raw)
    return escape_markdown(raw)


def fill(body: str, values: Mapping[str, str]) -> str:
    """`body` with each known `{{ name }}` replaced by its value, in one pass (a value that
    itself looks like `{{ name }}` stays as it is). Unknown names are left untouched."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in VARIABLES or name not in values:
            return match.group(0)
        return _value(name, values[name])

    return PLACEHOLDER.sub(replace, body or "")


# --- values from a ticket ---------------------------------------------------------------------


@dataclass(frozen=True)
class FilledResponse:
    """A canned response with its variables filled in: the Markdown text to insert into the
    reply box, and the sanitised HTML of its preview."""

    text: str
    html: SafeString
    unknown: list[str]


def _due_words(ticket: Ticket, tz_name: str) -> str:
    """The requester's promise (SLA clocks only, never the internal OLAs and contracts): the
    resolution target, else the first response, in their time zone."""
    clock = (
        SlaClock.objects.filter(
            ticket=ticket,
            policy_type="sla",
            stopped_at__isnull=True,
            state__in=("running", "breached"),
            due_at__isnull=False,
        )
        .order_by(Case(When(metric="resolution", then=Value(0)), default=Value(1)), "due_at", "pk")
        .only("due_at")
        .first()
    )
    if clock is None or clock.due_at is None:
        return "no target set yet"
    local = clock.due_at.astimezone(timezones.zone(tz_name))
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M} ({tz_name})"


def canned_response_values(*, user, ticket: Ticket) -> dict[str, str]:
    """The values of the canned-response variables for this ticket, written by `user`."""
    from servio.mail.outbound import ticket_url  # the portal link, as the emails give it

    return {
        "requester.first_name": ticket.requester.get_short_name(),
        "ticket.number": ticket.reference,
        "ticket.title": ticket.title,
        "ticket.due": _due_words(ticket, timezones.effective_zone_name(ticket.requester)),
        "ticket.portal_link": ticket_url(ticket),
        "agent.name": user.get_full_name(),
        "team.name": ticket.team.name if ticket.team is not None else "the service desk",
    }


def canned_response_fill(*, user, body: str, ticket: Ticket | None) -> FilledResponse:
    """`body` with its variables filled in from `ticket` (a scoped read), or example values
    when there is none; the preview HTML goes through the Markdown pipeline of comments."""
    values = (
        canned_response_values(user=user, ticket=ticket)
        if ticket is not None
        else {**EXAMPLE_VALUES, "agent.name": user.get_full_name()}
    )
    text = fill(body, values)
    html = mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3 (core.text)
    return FilledResponse(text, html, unknown_variables(body))
