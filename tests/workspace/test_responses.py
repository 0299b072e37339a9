"""The canned-response renderer: one regular-expression pass over known names, values escaped
so that Markdown shows them exactly as written (`servio.workspace.responses`)."""

from __future__ import annotations

from html import unescape

from hypothesis import given, settings
from hypothesis import strategies as st

from servio.core.text import render_markdown
from servio.workspace import responses


def test_known_names_are_filled_once_and_others_left_alone():
    values = {"agent.name": "{{ ticket.title }}", "ticket.title": "Printer"}
    text = responses.fill("{{agent.name}} / {{  ticket.title  }} / {{ nope }} / {% now %}", values)
    assert text == r"{{ ticket.title }} / Printer / {{ nope }} / {% now %}"
    assert responses.unknown_variables("{{ a.b }} {{ ticket.number }} {{ a.b }}") == ["a.b"]


def test_links_are_autolinks_only_when_they_are_web_addresses():
    assert responses.fill(
        "{{ ticket.portal_link }}", {"ticket.portal_link": "https://x.example/p"}
    ) == ("<https://x.example/p>")
    bad = responses.fill("{{ ticket.portal_link }}", {"ticket.portal_link": "javascript:alert(1)"})
    assert "<" not in bad and 'href="javascript' not in render_markdown(bad)


def test_a_value_cannot_start_a_block():
    for value in ("# Heading", "- item", "+ item", "1. item", "12) item", "> quote", "=== "):
        html = render_markdown(responses.escape_markdown(value))
        assert html.startswith("<p>"), (value, html)


def _shown(html: str) -> str:
    """The text a reader sees in simple rendered HTML."""
    import re

    return unescape(re.sub(r"<[^>]+>", "", html)).strip()


printable = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters="\x7f"),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(printable)
def test_an_escaped_value_shows_exactly_as_written(value):
    """Whatever a title or name holds, the reply shows it as text: no markup, no link."""
    html = render_markdown("Re: " + responses.escape_markdown(value))
    assert "<a " not in html and "<em>" not in html and "<strong>" not in html
    assert _shown(html) == ("Re: " + " ".join(value.split())).strip()


@settings(max_examples=300, deadline=None)
@given(printable)
def test_an_escaped_value_at_the_start_of_a_line_shows_as_written(value):
    html = render_markdown(responses.escape_markdown(value))
    assert "<a " not in html and "<h" not in html and "<li>" not in html
    assert _shown(html) == " ".join(value.split())
