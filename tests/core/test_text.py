"""Markdown rendering and HTML sanitising of untrusted text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servio.core.text import _markdown, _plain_paragraphs, render_markdown, sanitize_html
from tests.tickets.xss import PAYLOADS, assert_inert


def test_markdown_renders_the_usual_formatting():
    html = render_markdown(
        "**bold** _it_ `code`\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    for fragment in ("<strong>bold</strong>", "<em>it</em>", "<code>code</code>", "<li>one</li>"):
        assert fragment in html
    assert "<table>" in html and "<td>1</td>" in html
    assert render_markdown("") == ""


def test_links_keep_safe_schemes_and_get_rel():
    html = render_markdown("[docs](https://example.org/a?b=1) and [mail](mailto:help@example.org)")
    assert 'href="https://example.org/a?b=1"' in html
    assert 'href="mailto:help@example.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_raw_html_in_markdown_is_shown_as_text():
    html = render_markdown("<b>hi</b> <script>alert(1)</script>")
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "<script" not in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_payloads_are_inert(payload):
    assert_inert(render_markdown(payload))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sanitize_html_makes_raw_html_inert(payload):
    """The sanitiser alone (as for HTML mail bodies) must also defuse every payload."""
    assert_inert(sanitize_html(payload))


def test_sanitize_html_keeps_harmless_markup():
    kept = sanitize_html('<p>Hi <a href="https://example.org" onclick="x()">there</a></p>')
    assert kept.startswith('<p>Hi <a href="https://example.org"')
    assert "onclick" not in kept
    assert sanitize_html("<img src=x onerror=alert(1)>") == ""


PLAIN = "ab Z9.,;:?!'\"()/@%$^{}é\u00a0\n-+=#"
MARKUP = "\t\r*_`[]<>|~&\\\x00"


@given(st.text(alphabet=PLAIN, max_size=60) | st.text(alphabet=PLAIN + MARKUP, max_size=60))
@settings(max_examples=1500, deadline=None)
def test_the_plain_text_shortcut_renders_what_markdown_it_renders(text):
    shortcut = _plain_paragraphs(text)
    if shortcut is not None:
        assert shortcut == _markdown().render(text)


def test_plain_paragraphs_take_the_shortcut_and_markup_does_not():
    plain = 'Printer "B2" jams since the month-end run.\nSince 9am.\n\n  \nThanks!'
    assert _plain_paragraphs(plain) is not None
    for markup in (
        "*bold*",
        "1. first",
        "    code",
        "a  \nb",
        "AT&T",
        "x <b>",
        "# title",
        "- item",
    ):
        assert _plain_paragraphs(markup) is None, markup
