"""Sanitise the HTML of inbound mail and turn it into plain text."""

from __future__ import annotations

import html as html_lib
import logging
import re

import nh3
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

from servio.core.css import clean_style

logger = logging.getLogger(__name__)

_TAGS = (set(nh3.ALLOWED_TAGS) | {"font"}) - {"area", "map"}
_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
}
_ATTRIBUTES.setdefault("*", set()).update({"dir", "lang", "title", "style"})
_ATTRIBUTES["font"] = {"color", "face", "size"}
for _cell in ("td", "th", "table"):
    _ATTRIBUTES.setdefault(_cell, set()).update({"width", "valign", "bgcolor"})
_ATTRIBUTES["table"].update({"border", "cellpadding", "cellspacing"})
# Classes kept so that the UI can fold quoted history; any other class could borrow the app's CSS.
_CLASSES = {
    "div": {"gmail_quote", "gmail_attr", "moz-cite-prefix", "yahoo_quoted"},
    "blockquote": {"gmail_quote"},
}
# No url() carrying properties (tracking pixels) and no positioning (overlays over the app's UI).
_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "vertical-align",
    "white-space",
    "line-height",
    "margin",
    "margin-left",
    "margin-right",
    "margin-top",
    "margin-bottom",
    "padding",
    "padding-left",
    "padding-right",
    "padding-top",
    "padding-bottom",
    "border",
    "border-collapse",
    "border-left",
    "border-top",
    "width",
}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_TEXT_CONFIG = ParserConfig(css=CSS_PROFILES["strict"])
_TAG = re.compile(r"<[^<>]*>")
_RAW_TEXT_ELEMENT = re.compile(r"<(script|style)\b[^<>]*>[^<]*", re.IGNORECASE)
_TAG_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^<>]*?(/?)>")
# Elements that never nest (void) or close themselves implicitly: they do not add depth.
_FLAT_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr", "p", "li", "dt", "dd", "td", "th", "tr", "option",
}  # fmt: skip
# html5ever (behind nh3) gets slow with very deep nesting, and lxml (behind inscriptis) silently
# drops text below depth 255: past these limits we fall back to text without structure.
MAX_SANITISE_DEPTH = 500
MAX_TEXT_DEPTH = 250


def nesting_depth(markup: str) -> int:
    """A cheap, linear estimate of how deeply the elements of ``markup`` nest."""
    depth = deepest = 0
    for closing, name, self_closing in _TAG_TOKEN.findall(markup):
        if self_closing or name.lower() in _FLAT_ELEMENTS:
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _strip_tags(markup: str) -> str:
    text = html_lib.unescape(_TAG.sub(" ", _RAW_TEXT_ELEMENT.sub(" ", markup)))
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # Images only from the message itself (cid:): remote images are tracking beacons.
    if tag == "img" and attribute == "src":
        return value if value.strip().lower().startswith("cid:") else None
    # Styles only format text: no url(), expression(), bindings, escapes (servio.core.css).
    if attribute == "style":
        return clean_style(value, _STYLE_PROPERTIES) or None
    return value


def sanitize_html(markup: str) -> str:
    """Return ``markup`` reduced to an allow-list: no scripts, handlers, or javascript: URLs.

    Remote images are dropped (only ``cid:`` images from the message itself remain), styles are
    limited to harmless properties, and links get ``rel="noopener noreferrer nofollow"``.
    """
    if nesting_depth(markup) > MAX_SANITISE_DEPTH:
        logger.info("HTML nested too deeply to sanitise; keeping escaped text only")
        return _escaped_text(markup)
    try:
        return nh3.clean(
            markup,
            tags=_TAGS,
            clean_content_tags={"script", "style", "title", "template"},
            attributes=_ATTRIBUTES,
            allowed_classes=_CLASSES,
            filter_style_properties=_STYLE_PROPERTIES,
            url_schemes=_URL_SCHEMES,
            attribute_filter=_attribute_filter,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        )
    except Exception:  # never let a sanitiser failure through as HTML
        logger.warning("HTML sanitising failed; keeping escaped text only", exc_info=True)
        return _escaped_text(markup)


def _escaped_text(markup: str) -> str:
    text = " ".join(_strip_tags(markup).split())
    return f"<p>{html_lib.escape(text)}</p>" if text else ""


def html_to_text(markup: str) -> str:
    """Render HTML as readable plain text (blocks become lines, lists get bullets)."""
    if not markup.strip():
        return ""
    if nesting_depth(markup) > MAX_TEXT_DEPTH:
        text = _strip_tags(markup)
    else:
        try:
            text = get_text(markup, _TEXT_CONFIG)
        except Exception:  # parser trouble: fall back to stripping tags
            logger.warning("HTML to text conversion failed; stripping tags", exc_info=True)
            text = _strip_tags(markup)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
