"""Rendering untrusted user text: Markdown to HTML through an allow-list sanitiser."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

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


def render_markdown(
    text: str, *, links: Mapping[str, str] | None = None, terms: re.Pattern[str] | None = None
) -> str:
    """Markdown from a user -> HTML that is safe to put in a page.

    With `terms` and `links`, each word of the text that `terms` matches and `links` maps to
    an address becomes a link to it (not inside code, nor inside a link the text already has);
    the caller decides which words may be links (ticket numbers the reader may see)."""
    if not text:
        return ""
    if terms is not None and links and any(m.group(0) in links for m in terms.finditer(text)):
        md = _markdown()
        tokens = md.parse(text)
        _link_terms(tokens, terms, links)
        return sanitize_html(md.renderer.render(tokens, md.options, {}))
    html = _plain_paragraphs(text)
    if html is None:
        html = _markdown().render(text)
    return sanitize_html(html)


def find_terms(texts: Iterable[str], terms: re.Pattern[str], limit: int = 100) -> list[str]:
    """The distinct words `terms` matches in these texts (at most `limit`), in order of
    appearance: what a page asks about once before `render_markdown` links them."""
    found: dict[str, None] = {}
    for text in texts:
        for match in terms.finditer(text or ""):
            found.setdefault(match.group(0), None)
            if len(found) >= limit:
                return list(found)
    return list(found)


def _link_terms(tokens: list[Token], terms: re.Pattern[str], links: Mapping[str, str]) -> None:
    """Turn the matched words of plain text runs into links (code and links left alone)."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        inside_link = 0
        for token in block.children:
            if token.type == "link_open":
                inside_link += 1
            elif token.type == "link_close":
                inside_link -= 1
            if token.type == "text" and not inside_link:
                children.extend(_linked(token.content, terms, links))
            else:
                children.append(token)
        block.children = children


def _linked(content: str, terms: re.Pattern[str], links: Mapping[str, str]) -> list[Token]:
    out: list[Token] = []
    start = 0
    for match in terms.finditer(content):
        href = links.get(match.group(0))
        if href is None:
            continue
        if match.start() > start:
            out.append(_text(content[start : match.start()]))
        opening = Token("link_open", "a", 1)
        opening.attrs = {"href": href}
        out += [opening, _text(match.group(0)), Token("link_close", "a", -1)]
        start = match.end()
    if start < len(content) or not out:
        out.append(_text(content[start:]))
    return out


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


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
