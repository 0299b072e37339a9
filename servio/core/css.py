"""Inline CSS from untrusted HTML (email bodies), reduced to declarations that only format text.

An allow-listed property is not enough: its value may call `url()` (a tracking beacon, or a
`javascript:` URL to an old engine), `expression()` (script in old Internet Explorer), or
hide either behind CSS escapes or comments (`expr\\65ssion`, `ex/**/pression`); `behavior`
and `-moz-binding` attach code. So each value must be made only of plain tokens: keywords,
numbers with units, hex colours, rgb()/hsl() colours, quoted font names and `!important`.
A declaration with anything else is dropped whole.
"""

from __future__ import annotations

import re

# What no kept value may contain, even as a bare word (belt and braces: none of these can form
# a call without parentheses, which only the colour functions may have).
FORBIDDEN = ("url", "expression", "javascript", "vbscript", "behavior", "binding")
_TOKEN = re.compile(
    r"""
      \#[0-9a-f]{3,8}(?![\w])                            # a hex colour
    | (?:rgba?|hsla?)\(\s*[0-9.%\s,/+-]*\)               # an rgb()/hsl() colour, numbers only
    | [+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:%|[a-z]{1,5})?(?![\w%]) # a number, maybe with a unit
    | "[\w .-]*" | '[\w .-]*'                            # a quoted font name
    | [a-z][a-z0-9-]*                                    # a keyword
    | !\s*important
    | ,
    """,
    re.IGNORECASE | re.VERBOSE,
)
_PROPERTY = re.compile(r"[a-z][a-z-]*", re.IGNORECASE)


def clean_value(value: str) -> str | None:
    """`value` if it is made only of plain tokens, else None."""
    if "\\" in value or "/*" in value or "*/" in value:  # escapes and comments hide words
        return None
    squeezed = re.sub(r"\s+", "", value).lower()
    if not squeezed or any(word in squeezed for word in FORBIDDEN):
        return None
    position, text = 0, value.strip()
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        match = _TOKEN.match(text, position)
        if match is None:
            return None
        position = match.end()
    return " ".join(text.split())


def clean_style(style: str, allowed: frozenset[str] | set[str]) -> str:
    """The declarations of a `style` attribute whose property is in `allowed` and whose value is
    plain (see the module's docstring), as `name: value; ...`; "" when none is left."""
    kept = []
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        name = name.strip().lower()
        if not colon or not _PROPERTY.fullmatch(name) or name not in allowed:
            continue
        plain = clean_value(value)
        if plain is not None:
            kept.append(f"{name}: {plain}")
    return "; ".join(kept)
