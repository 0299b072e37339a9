"""Is an inbound message really from the domain in its From header? (decision record 0018)

Two sources of evidence, and nothing else:

* `Authentication-Results` headers (RFC 8601) whose authserv-id is one of the receiving hosts
  the mailbox trusts (`Mailbox.trusted_authserv_ids`): DMARC, DKIM and SPF as that host found
  them. Anyone can write such a header, so headers with another id are ignored, only the top
  block is read (down to the first Received header below a trusted result, or to the Received
  header a trusted host added on taking the message in: a sender's own headers sit below it),
  and results of one method that contradict each other count as a failure. SPF counts only
  from here: piped and IMAP-fetched mail carries no client address we could check ourselves.
* DKIM signatures verified here with dkimpy, when the caller asks (the intake does for mail
  from staff addresses, where the answer decides whether the mail may act as the agent). A
  signature counts when it verifies, covers the From header and the whole body (no `l=`), and
  its domain is aligned with the From domain (the same domain, or one a subdomain of the
  other: a key can only be published by whoever holds the domain).

The verdict is `pass` (authenticated), `fail` (evidence of forgery: DMARC failed, a signature
did not verify, SPF failed with no aligned pass), or `none` (no evidence either way).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

from servio.mail.identity import header_fields

log = logging.getLogger(__name__)

PASS, FAIL, NONE = "pass", "fail", "none"
_FAILING = {"fail", "softfail", "permerror"}
_COMMENT = re.compile(r"\([^()]*\)")
_PAIR = re.compile(r'([A-Za-z][\w.-]*)(?:/\d+)?\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]+)')
_AUTHSERV = re.compile(r"^[A-Za-z0-9._-]+$")
_RECEIVED_BY = re.compile(r"\bby\s+([^\s;()]+)", re.IGNORECASE)
DnsFunc = Callable[..., bytes | str | None]


@dataclass(frozen=True)
class Verdict:
    result: str  # pass, fail, none
    detail: str

    @property
    def passed(self) -> bool:
        return self.result == PASS


@dataclass
class _Evidence:
    """What the trusted headers and our own checks found, per method."""

    results: dict[str, set[str]] = field(default_factory=dict)
    aligned_pass: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, method: str, result: str) -> None:
        self.results.setdefault(method, set()).add(result)


def parse_authserv_ids(value: str) -> set[str]:
    """The trusted authserv-ids of a mailbox's setting (commas, spaces or lines between)."""
    return {item.lower() for item in re.split(r"[\s,;]+", value or "") if item}


def invalid_authserv_ids(value: str) -> list[str]:
    """Entries that are not host names or authserv-ids (for the admin form)."""
    return sorted(item for item in parse_authserv_ids(value) if not _AUTHSERV.match(item))


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment without a public-suffix list: the same domain, or one a subdomain of
    the other (only the domain's holder can publish keys or SPF records under it)."""
    domain, from_domain = domain.lower().strip(". "), from_domain.lower().strip(". ")
    if not domain or not from_domain:
        return False
    return (
        domain == from_domain
        or from_domain.endswith("." + domain)
        or domain.endswith("." + from_domain)
    )


def parse_results(value: str) -> tuple[str, list[tuple[str, str, dict[str, str]]]]:
    """(authserv-id, [(method, result, properties)]) of one Authentication-Results value."""
    text = " ".join(value.split())
    previous = None
    while previous != text:  # nested comments, innermost first
        previous, text = text, _COMMENT.sub(" ", text)
    parts = [part.strip() for part in text.split(";")]
    head = parts[0].split()
    authserv = head[0].lower() if head and "=" not in head[0] else ""
    found = []
    for part in parts[1:]:
        pairs = [(k.lower(), v.strip('"')) for k, v in _PAIR.findall(part)]
        if not pairs:
            continue
        (method, result), props = pairs[0], dict(pairs[1:])
        found.append((method, result.lower(), props))
    return authserv, found


def _trusted_block(items: Iterable[tuple[str, str]], trusted: set[str]) -> list[str]:
    """Values of the trusted Authentication-Results headers of the top block: it ends at the
    first Received header below a trusted result, or at the Received header a trusted host
    added when it took the message in (what lies below came with the message)."""
    block: list[str] = []
    for name, value in items:
        lowered = name.lower()
        if lowered == "received":
            by = _RECEIVED_BY.search(value)
            if block or (by is not None and by.group(1).lower().rstrip(".") in trusted):
                break
        if lowered == "authentication-results":
            authserv, _ = parse_results(value)
            if authserv and authserv in trusted:
                block.append(value)
    return block


def _read_headers(raw: bytes) -> list[tuple[str, str]]:
    return header_fields(raw)


def _from_trusted_headers(
    items: list[tuple[str, str]], from_domain: str, trusted: set[str], evidence: _Evidence
) -> None:
    for value in _trusted_block(items, trusted):
        authserv, results = parse_results(value)
        for method, result, props in results:
            if method not in ("dmarc", "dkim", "spf"):
                continue
            evidence.add(method, result)
            if result != PASS:
                continue
            if method == "dmarc":
                if props.get("header.from", from_domain).lower() == from_domain:
                    evidence.aligned_pass.append(f"dmarc=pass ({authserv})")
            elif method == "dkim":
                domain = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
                if aligned(domain, from_domain):
                    evidence.aligned_pass.append(f"dkim=pass d={domain} ({authserv})")
            else:
                mailfrom = props.get("smtp.mailfrom", "").rpartition("@")[2]
                if aligned(mailfrom, from_domain):
                    evidence.aligned_pass.append(f"spf=pass {mailfrom} ({authserv})")


def dns_function() -> DnsFunc | None:
    """The TXT lookup dkimpy uses: SERVIO_MAIL_DKIM_DNSFUNC (a dotted path), else its own."""
    path = getattr(settings, "SERVIO_MAIL_DKIM_DNSFUNC", "")
    return import_string(path) if path else None


def verify_dkim(
    raw: bytes,
    from_domain: str,
    *,
    dnsfunc: DnsFunc | None = None,
    items: list[tuple[str, str]] | None = None,
) -> tuple[str, str]:
    """Verify the message's DKIM signatures here: (pass|fail|none, what was found)."""
    import dkim  # imported on first use: only mail from staff addresses is verified

    items = _read_headers(raw) if items is None else items
    count = sum(1 for name, _ in items if name.lower() == "dkim-signature")
    if not count:
        return NONE, "no DKIM signature"
    lookup = dnsfunc or dns_function()
    checker = dkim.DKIM(raw, logger=log)
    seen = []
    failed = False
    for index in range(count):
        try:
            ok = checker.verify(idx=index, dnsfunc=lookup) if lookup else checker.verify(idx=index)
        except dkim.DKIMException as exc:
            ok = False
            seen.append(f"signature {index + 1} unusable: {exc}")
        domain = (checker.domain or b"").decode("ascii", "replace").lower()
        fields = getattr(checker, "signature_fields", {}) or {}
        covered = b"from" in getattr(checker, "include_headers", ())
        if not ok:
            failed = True
            seen.append(f"dkim=fail d={domain}")
        elif b"l" in fields:
            seen.append(f"dkim=pass d={domain} but it covers part of the body only (l=)")
        elif not covered:
            seen.append(f"dkim=pass d={domain} but the From header is not signed")
        elif not aligned(domain, from_domain):
            seen.append(f"dkim=pass d={domain}, not the From domain {from_domain}")
        else:
            return PASS, f"dkim=pass d={domain} (verified here)"
    return (FAIL if failed else NONE), "; ".join(seen)


def authenticate(
    raw: bytes,
    from_address: str,
    *,
    trusted: set[str],
    check_dkim: bool,
    dnsfunc: DnsFunc | None = None,
) -> Verdict:
    """The verdict on a message's From address (see the module docstring)."""
    from_domain = from_address.rpartition("@")[2].lower()
    items = _read_headers(raw)
    if sum(1 for name, _ in items if name.lower() == "from") > 1:
        return Verdict(FAIL, "the message has several From headers")
    evidence = _Evidence()
    if trusted:
        _from_trusted_headers(items, from_domain, trusted, evidence)
    conflicting = sorted(m for m, results in evidence.results.items() if len(results) > 1)
    if conflicting:
        return Verdict(
            FAIL, f"trusted Authentication-Results contradict each other ({', '.join(conflicting)})"
        )
    results = {method: next(iter(found)) for method, found in evidence.results.items()}
    if results:
        trusted_note = ", ".join(f"{m}={r}" for m, r in sorted(results.items()))
    elif trusted:
        trusted_note = "no Authentication-Results from a trusted receiving host"
    else:
        trusted_note = "no trusted receiving host is configured for the mailbox"
    if results.get("dmarc") == "fail":
        return Verdict(FAIL, trusted_note)
    if evidence.aligned_pass:
        return Verdict(PASS, evidence.aligned_pass[0])
    dkim_result, dkim_note = NONE, ""
    if check_dkim:
        dkim_result, dkim_note = verify_dkim(raw, from_domain, dnsfunc=dnsfunc, items=items)
        if dkim_result == PASS:
            return Verdict(PASS, dkim_note)
    detail = "; ".join(note for note in (trusted_note, dkim_note) if note)
    if dkim_result == FAIL or _FAILING & set(results.values()):
        return Verdict(FAIL, detail)
    return Verdict(NONE, detail)
