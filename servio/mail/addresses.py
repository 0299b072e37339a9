"""Is a sender's address one we may turn into an account? Checked in Python, before anything is
looked up or created, so that SQLite and PostgreSQL answer the same (PostgreSQL refuses a NUL
character or a value longer than the column; SQLite stores either).

An address is accepted when it is a plain `local@domain`: at most 254 characters (RFC 5321's
path limit less the brackets), a local part of at most 64 characters written as a dot-atom
(ASCII `atext`, or non-ASCII letters as RFC 6531 allows; no quoted strings, no spaces or
control characters, no leading, trailing or double dots), and a domain name of at least two
labels (internationalised names are checked in their IDNA form) of letters, digits and inner
hyphens, each at most 63 and together at most 253 characters; no address literals.
"""

from __future__ import annotations

import re

MAX_ADDRESS = 254
MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_LABEL = 63
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(address: str) -> str:
    """The address with control characters written as escapes (safe to store and show)."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", address)


def address_problem(address: str) -> str | None:
    """What is wrong with a sender address, or None when it may become an account."""
    shown = printable(address)
    if _UNPRINTABLE.search(address) or "\ufffd" in address or any(c.isspace() for c in address):
        return (
            f"The sender address {shown} contains control characters, undecodable bytes or spaces."
        )
    if "@" not in address:
        return f"The sender address {shown} has no @."
    if len(address) > MAX_ADDRESS:
        return (
            f"The sender address is {len(address)} characters long; at most {MAX_ADDRESS} "
            "are allowed."
        )
    local, _, domain = address.rpartition("@")
    return _local_problem(local, shown) or _domain_problem(domain, shown)


def _local_problem(local: str, shown: str) -> str | None:
    if '"' in local or "\\" in local or "@" in local:
        return f"The sender address {shown} has a quoted or escaped local part."
    if not local:
        return f"The sender address {shown} has nothing before the @."
    if len(local) > MAX_LOCAL:
        return (
            f"The local part of {shown[:80]}... is {len(local)} characters long; at most "
            f"{MAX_LOCAL} are allowed."
        )
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return f"The sender address {shown} has a misplaced dot before the @."
    for ch in local:
        if ch != "." and not _ATEXT.match(ch) and not (ord(ch) > 127 and ch.isalnum()):
            return f"The sender address {shown} has the character {ch!r} before the @."
    return None


def _domain_problem(domain: str, shown: str) -> str | None:
    if domain.startswith("["):
        return f"The sender address {shown} names an address literal, not a domain."
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower() if domain else ""
    except UnicodeError:
        return f"The domain of {shown} is not a valid domain name."
    labels = ascii_domain.split(".")
    if len(ascii_domain) > MAX_DOMAIN:
        return (
            f"The domain of the sender address is {len(ascii_domain)} characters long; at most "
            f"{MAX_DOMAIN} are allowed."
        )
    if len(labels) < 2:
        return f"The domain of {shown} is not a full domain name (no dot)."
    for label in labels:
        if len(label) > MAX_LABEL:
            return f"A part of the domain of {shown[:80]}... is longer than {MAX_LABEL} characters."
        if not _LABEL.match(label):
            return f"The domain of {shown} is not a valid domain name."
    if labels[-1].isdigit():
        return f"The domain of {shown} ends in a number, not a top-level domain."
    return None
