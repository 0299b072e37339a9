"""Is mail really from its From domain? Trusted Authentication-Results and DKIM verified with
dkimpy (its DNS lookup answered by the test's own key), without the database."""

from __future__ import annotations

import pytest

from servio.mail.authentication import authenticate, parse_results, verify_dkim
from tests.mail.dkimkeys import PUBLISHED, lookup, make_key
from tests.mail.messages import make_email

AGENT = "dana@provider.example"
MX = "mx.provider.example"


@pytest.fixture(scope="module")
def key():
    return make_key()


@pytest.fixture(autouse=True)
def _no_published_keys():
    PUBLISHED.clear()
    yield
    PUBLISHED.clear()


def _mail(**kw) -> bytes:
    return make_email(sender=AGENT, subject="Re: [INC-000001] VPN", body="Done.", **kw)


def _verdict(raw: bytes, *, trusted=(MX,), check_dkim=False):
    return authenticate(raw, AGENT, trusted=set(trusted), check_dkim=check_dkim, dnsfunc=lookup)


# --- DKIM verified here ------------------------------------------------------------------------


def test_a_valid_aligned_signature_passes(key):
    key.publish("sel", "provider.example")
    signed = key.sign(_mail(), domain="provider.example")
    assert verify_dkim(signed, "provider.example", dnsfunc=lookup) == (
        "pass",
        "dkim=pass d=provider.example (verified here)",
    )
    verdict = _verdict(signed, trusted=(), check_dkim=True)
    assert verdict.passed and "verified here" in verdict.detail


def test_a_parent_domain_signature_is_aligned_with_a_subdomain_sender(key):
    key.publish("sel", "provider.example")
    raw = make_email(sender="ops@eu.provider.example", subject="x")
    signed = key.sign(raw, domain="provider.example")
    assert verify_dkim(signed, "eu.provider.example", dnsfunc=lookup)[0] == "pass"


def test_a_tampered_body_fails(key):
    key.publish("sel", "provider.example")
    signed = key.sign(_mail(), domain="provider.example")
    tampered = signed.replace(b"Done.", b"Done. Reset link: https://evil.example/r")
    result, detail = verify_dkim(tampered, "provider.example", dnsfunc=lookup)
    assert result == "fail" and "dkim=fail d=provider.example" in detail
    assert _verdict(tampered, trusted=(), check_dkim=True).result == "fail"


def test_a_tampered_from_header_fails(key):
    key.publish("sel", "provider.example")
    signed = key.sign(_mail(), domain="provider.example")
    forged = signed.replace(AGENT.encode(), b"lena@provider.example")
    assert verify_dkim(forged, "provider.example", dnsfunc=lookup)[0] == "fail"


def test_a_signature_of_another_domain_does_not_authenticate(key):
    key.publish("sel", "evil.example")
    signed = key.sign(_mail(), domain="evil.example")
    result, detail = verify_dkim(signed, "provider.example", dnsfunc=lookup)
    assert result == "none" and "not the From domain" in detail
    assert _verdict(signed, trusted=(), check_dkim=True).result == "none"


def test_no_signature_and_no_key(key):
    assert verify_dkim(_mail(), "provider.example", dnsfunc=lookup) == ("none", "no DKIM signature")
    signed = key.sign(_mail(), domain="provider.example")  # the key was never published
    assert verify_dkim(signed, "provider.example", dnsfunc=lookup)[0] == "fail"


def test_a_signature_over_part_of_the_body_does_not_authenticate(key):
    key.publish("sel", "provider.example")
    signed = key.sign(_mail(), domain="provider.example", length=True)
    appended = signed + b"\nClick https://evil.example/ to confirm.\n"
    result, detail = verify_dkim(appended, "provider.example", dnsfunc=lookup)
    assert result == "none" and "l=" in detail


def test_a_second_from_header_is_a_failure(key):
    key.publish("sel", "provider.example")
    signed = key.sign(_mail(), domain="provider.example")
    doubled = b"From: lena@provider.example\n" + signed
    assert _verdict(doubled, trusted=(), check_dkim=True).result == "fail"


# --- Authentication-Results of trusted receiving hosts ------------------------------------------


def _with(*headers: str, raw: bytes | None = None) -> bytes:
    return "".join(f"{h}\n" for h in headers).encode() + (raw or _mail())


RECEIVED = "Received: from mail.sender.example by mx.provider.example; Mon, 7 Dec 2026 10:00"


@pytest.mark.parametrize(
    ("headers", "result"),
    [
        ([f"Authentication-Results: {MX}; dmarc=pass header.from=provider.example", RECEIVED],
         "pass"),
        ([f"Authentication-Results: {MX}; dkim=pass header.d=provider.example", RECEIVED],
         "pass"),
        ([f"Authentication-Results: {MX}; spf=pass smtp.mailfrom=dana@provider.example",
          RECEIVED], "pass"),
        # Comments and a version number are read past.
        [[f"Authentication-Results: {MX} 1; spf=pass (sender SPF authorized) "
          "smtp.mailfrom=bounce@provider.example; dkim=none (no signature)", RECEIVED], "pass"],
        ([f"Authentication-Results: {MX}; spf=fail smtp.mailfrom=provider.example; "
          "dkim=none; dmarc=fail header.from=provider.example", RECEIVED], "fail"),
        ([f"Authentication-Results: {MX}; spf=softfail smtp.mailfrom=provider.example",
          RECEIVED], "fail"),
        # Not aligned: another domain passed.
        ([f"Authentication-Results: {MX}; spf=pass smtp.mailfrom=evil.example; "
          "dkim=pass header.d=evil.example", RECEIVED], "none"),
        ([f"Authentication-Results: {MX}; dmarc=pass header.from=evil.example", RECEIVED],
         "none"),
        # Another host's results (the attacker's own header) count for nothing.
        (["Authentication-Results: mx.evil.example; dmarc=pass header.from=provider.example",
          RECEIVED], "none"),
        # No authserv-id at all (as some services write it): never trusted.
        (["Authentication-Results: spf=pass smtp.mailfrom=provider.example", RECEIVED], "none"),
        # The attacker's header with the trusted id sits below the receiving host's Received.
        ([f"Authentication-Results: {MX}; spf=fail smtp.mailfrom=provider.example", RECEIVED,
          f"Authentication-Results: {MX}; dkim=pass header.d=provider.example"], "fail"),
        # ... or below the Received line the trusted host added, when it reported nothing.
        ([RECEIVED, f"Authentication-Results: {MX}; dkim=pass header.d=provider.example"],
         "none"),
        # A later internal hop (delivery to the IMAP server) above the trusted results.
        (["Received: from mx.provider.example by imap.provider.example; Mon, 7 Dec 2026",
          f"Authentication-Results: {MX}; spf=none",
          f"Authentication-Results: {MX}; dkim=pass header.d=provider.example", RECEIVED],
         "pass"),
        # Contradicting results of one method are a failure.
        ([f"Authentication-Results: {MX}; dkim=none",
          f"Authentication-Results: {MX}; dkim=pass header.d=provider.example", RECEIVED],
         "fail"),
        ([RECEIVED], "none"),
    ],
)  # fmt: skip
def test_trusted_authentication_results(headers, result):
    assert _verdict(_with(*headers)).result == result


def test_authentication_results_count_only_for_a_mailbox_that_trusts_the_host():
    raw = _with(f"Authentication-Results: {MX}; dmarc=pass header.from=provider.example")
    assert _verdict(raw).passed
    assert _verdict(raw, trusted=()).result == "none"
    assert _verdict(raw, trusted=("mx2.provider.example",)).result == "none"


def test_parse_results_reads_ids_methods_and_properties():
    authserv, results = parse_results(
        "MX.Provider.Example; dkim=pass (good sig) header.d=provider.example header.s=sel;"
        ' spf=fail smtp.mailfrom="a@b.example"; dmarc=fail (p=reject) header.from=b.example'
    )
    assert authserv == "mx.provider.example"
    assert results == [
        ("dkim", "pass", {"header.d": "provider.example", "header.s": "sel"}),
        ("spf", "fail", {"smtp.mailfrom": "a@b.example"}),
        ("dmarc", "fail", {"header.from": "b.example"}),
    ]
