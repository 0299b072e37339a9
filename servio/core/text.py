"""Rendering untrusted user text: Markdown to HTML through an allow-list sanitiser."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Raw HTML in Markdown is not interpreted at all; it is shown as text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def sanitize_html(html: str) -> str:
    """Keep only harmless tags and attributes; links get rel=noopener and only safe schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text: str) -> str:
    """Markdown from a user -> HTML that is safe to put in a page."""
    if not text:
        return ""
    html = _plain_paragraphs(text)
    if html is None:
        html = _markdown().render(text)
    return sanitize_html(html)


# Text without anything Markdown could read as markup: no inline markup character or entity
# anywhere, and no line that starts with what opens a block (a list marker or digit, a heading,
# an underline, indentation) or ends in whitespace (a hard break).
_INLINE = r"\x00-\x1f\x7f\\`*_\[\]<>|~&"
_PLAIN_LINE = re.compile(rf"[^{_INLINE}\s\d#=+\-][^{_INLINE}]*")
_ESCAPES = str.maketrans({'"': "&quot;"})


def _plain_paragraphs(text: str) -> str | None:
    """What markdown-it renders for plain paragraphs, without its parser (most tickets and
    replies are plain text; parsing costs most of a creation's rendering); None for any text
    that might hold markup. A property test holds it to markdown-it's output."""
    paragraphs: list[list[str]] = [[]]
    for line in text.split("\n"):
        if not line.strip(" "):
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        if not _PLAIN_LINE.fullmatch(line) or line[-1].isspace():
            return None
        paragraphs[-1].append(line)
    return "".join(
        f"<p>{chr(10).join(lines).translate(_ESCAPES)}</p>\n" for lines in paragraphs if lines
    )
