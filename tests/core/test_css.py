"""Inline CSS of untrusted HTML keeps only declarations that format text (servio.core.css)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servio.core.css import FORBIDDEN, clean_style
from servio.core.text import sanitize_html as sanitize_markdown_html
from servio.mail.htmltext import sanitize_html as sanitize_mail_html

ALLOWED = frozenset({"color", "background-color", "font-family", "font-size", "width", "margin"})
# Each is one declaration that must not survive, whatever its property.
HOSTILE = [
    "color: expression(alert(1))",
    "width: expression(alert(1))",
    "background-color: url(javascript:alert(1))",
    "background-color: url(https://tracker.example/p.png)",
    "font-family: url(https://tracker.example/p.png)",
    "color: url('x')",
    "color: URL(x)",
    "color: u\\72l(x)",  # a CSS escape
    "col\\6f r: expr\\65ssion(alert(1))",
    "color: ex/**/pression(alert(1))",
    "color: ex/* */pression(alert(1))",
    "behavior: url(x.htc)",
    "-moz-binding: url(x.xml#xss)",
    "color: red; -moz-binding",  # the first part is kept, the bare property is not
    "color: javascript:alert(1)",
    "color: vbscript:x",
    "width: calc(100% - 1px)",
    "color: var(--x)",
    "color: attr(title)",
    'font-family: "a\\"b"',
    "color: red</style><script>alert(1)</script>",
    "color: image-set(url(x) 1x)",
    "width: 1px !important; color: expression(1)",
]
PLAIN = [
    ("color: red", "color: red"),
    ("COLOR: #FF0000", "color: #FF0000"),
    ("background-color: rgb(1, 2, 3)", "background-color: rgb(1, 2, 3)"),
    ("background-color: rgba(1,2,3,.5)", "background-color: rgba(1,2,3,.5)"),
    ("font-family: 'Segoe UI', Arial, sans-serif", "font-family: 'Segoe UI', Arial, sans-serif"),
    ("font-size: 12.5pt", "font-size: 12.5pt"),
    ("width: 100%", "width: 100%"),
    ("margin: 0 0 -1px .5em !important", "margin: 0 0 -1px .5em !important"),
]


@pytest.mark.parametrize("declaration", HOSTILE)
def test_hostile_values_are_dropped(declaration):
    kept = clean_style(declaration, ALLOWED)
    assert kept in ("", "color: red", "width: 1px !important"), kept
    for word in (*FORBIDDEN, "(", "\\", "/*", "<"):
        assert word not in kept.lower().replace("rgb(", ""), (declaration, kept)


@pytest.mark.parametrize(("style", "kept"), PLAIN)
def test_plain_formatting_is_kept(style, kept):
    assert clean_style(style, ALLOWED) == kept


def test_only_allowed_properties_are_kept():
    style = "color: red; position: fixed; top: 0; z-index: 99; width: 10px"
    assert clean_style(style, ALLOWED) == "color: red; width: 10px"


PLAIN_VALUE = re.compile(r"""[\w\s#%.,'"!+-]*|.*(?:rgba?|hsla?)\([0-9.%\s,/+-]*\).*""")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_whatever_comes_in_no_code_comes_out(style):
    kept = clean_style(style, ALLOWED)
    squeezed = "".join(kept.split()).lower()
    assert not any(word in squeezed for word in FORBIDDEN), kept
    assert "\\" not in kept and "/*" not in kept and "<" not in kept and ";;" not in kept
    for declaration in filter(None, kept.split("; ")):
        name, _, value = declaration.partition(": ")
        assert name in ALLOWED and PLAIN_VALUE.fullmatch(value), declaration


@pytest.mark.parametrize("declaration", HOSTILE)
def test_stored_mail_bodies_keep_no_hostile_style(declaration):
    html = sanitize_mail_html(
        f'<p style="{declaration}">Hello</p><div style="{declaration}">x</div>'
    )
    lowered = html.lower()
    for word in ("expression", "url(", "javascript", "behavior", "binding", "\\", "var(", "calc("):
        assert word not in lowered, (declaration, html)
    assert "Hello" in html


def test_style_elements_are_dropped_with_their_rules():
    source = "<style>p { background: url(https://tracker.example/p.png) }</style><p>Hi</p>"
    for sanitize in (sanitize_mail_html, sanitize_markdown_html):
        html = sanitize(source)
        assert "tracker" not in html and "<style" not in html and "Hi" in html


def test_rendered_markdown_keeps_no_style_attribute_at_all():
    html = sanitize_markdown_html('<p style="color: red">Hi</p><a href="/" style="x">a</a>')
    assert "style" not in html and "Hi" in html


def test_mail_keeps_plain_formatting():
    html = sanitize_mail_html('<p style="color: #333; font-family: Arial, sans-serif">Hi</p>')
    assert "color:#333" in html and "font-family:Arial" in html, html
