"""Words turned into links at render time (ticket numbers the reader may see): only in plain
text, never in code or inside a link, and only the words the caller allows."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from servio.core.text import find_terms, render_markdown
from servio.tickets.models import NUMBER_IN_TEXT
from tests.tickets.xss import PAYLOADS, assert_inert

LINKS = {"INC-000042": "/desk/t/INC-000042/", "INC-7": "/desk/t/INC-000007/"}


def render(text: str) -> str:
    return render_markdown(text, links=LINKS, terms=NUMBER_IN_TEXT)


def test_a_number_the_reader_may_see_becomes_a_link():
    html = render("Same as INC-000042, see there.")
    assert html == (
        '<p>Same as <a href="/desk/t/INC-000042/" rel="noopener noreferrer nofollow">'
        "INC-000042</a>, see there.</p>\n"
    )
    assert 'href="/desk/t/INC-000007/">INC-7</a>' in render("**INC-7** again").replace(
        ' rel="noopener noreferrer nofollow"', ""
    )


def test_other_numbers_code_and_links_stay_as_they_are():
    assert "<a" not in render("INC-000043 is someone else's")  # not in the links given
    assert "<a" not in render("`INC-000042` in code")
    assert "<a" not in render("```\nINC-000042\n```")
    assert "<a" not in render("    INC-000042 indented code")
    assert "<a" not in render("XINC-000042 and INC-0000421 and inc-000042")
    linked = render("[the other one](https://example.org/INC-000042) INC-000042")
    assert linked.count("<a ") == 2 and linked.count('href="/desk/t/INC-000042/"') == 1
    assert ">the other one</a>" in linked


def test_without_links_the_text_renders_as_before():
    for text in ("Plain words", "INC-000042 here", "*INC-7*", "# INC-000042"):
        assert render_markdown(text, links={}, terms=NUMBER_IN_TEXT) == render_markdown(text)


def test_find_terms_lists_each_number_once_in_order():
    texts = ["INC-000042 and REQ-000001", None, "again INC-000042, then CHG-12"]
    assert find_terms(texts, NUMBER_IN_TEXT) == ["INC-000042", "REQ-000001", "CHG-12"]
    assert find_terms(texts, NUMBER_IN_TEXT, limit=2) == ["INC-000042", "REQ-000001"]


def test_payloads_next_to_a_number_stay_inert():
    for payload in PAYLOADS:
        assert_inert(render(f"INC-000042 {payload} INC-7"))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("INC-0427 *`[]()#_\n>")), max_size=40))
def test_linking_only_adds_links_around_allowed_numbers(text):
    """Taking the added links out again gives exactly what the text renders to without them."""
    linked = render(text)
    unlinked = render_markdown(text)
    added = re.sub(
        r'<a href="/desk/t/INC-0000(?:42|07)/" rel="noopener noreferrer nofollow">([^<]*)</a>',
        r"\1",
        linked,
    )
    assert added == unlinked
