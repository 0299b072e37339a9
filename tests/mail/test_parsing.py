# ruff: noqa: RUF001 - multilingual test data on purpose
"""Tests for servio/mail: the inbound-email parsing layer (pure functions, no database)."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servio.mail.charsets import decode_bytes
from servio.mail.filenames import MAX_FILENAME_BYTES, clean_filename
from servio.mail.htmltext import sanitize_html
from servio.mail.parsing import SYNTHETIC_ID_DOMAIN, MessageParseError, parse_message
from servio.mail.quotes import extract_reply

CORPUS = Path(__file__).resolve().parent.parent / "data" / "email"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
CORPUS_BYTES = {path.name: path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))}
PARSEABLE = [name for name, spec in sorted(EXPECTED.items()) if "error" not in spec]

# Keys of expected.json compared for equality with the ParsedMessage attribute of the same name.
_EQUAL_FIELDS = (
    "subject",
    "from_address",
    "from_name",
    "message_id",
    "message_id_synthesised",
    "in_reply_to",
    "reply_to",
    "is_auto_reply",
    "is_bounce",
    "is_list_mail",
    "ticket_ref",
)
_LIST_FIELDS = ("references", "to", "cc")


class _FailOnError(logging.Handler):
    """parse_message survives a failing stage by logging an error; in tests that is a bug."""

    def emit(self, record):
        raise AssertionError(f"servio.mail logged an error: {record.getMessage()}")


@pytest.fixture(autouse=True, scope="module")
def _fail_on_logged_errors():
    handler = _FailOnError(level=logging.ERROR)
    mail_logger = logging.getLogger("servio.mail")
    mail_logger.addHandler(handler)
    yield
    mail_logger.removeHandler(handler)


def test_every_corpus_file_has_an_expectation():
    assert sorted(CORPUS_BYTES) == sorted(EXPECTED)
    assert len(CORPUS_BYTES) >= 32


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name):
    spec = EXPECTED[name]
    raw = CORPUS_BYTES[name]
    if "error" in spec:
        with pytest.raises(MessageParseError):
            parse_message(raw)
        return
    msg = parse_message(raw)
    for field in _EQUAL_FIELDS:
        if field in spec:
            assert getattr(msg, field) == spec[field], field
    for field in _LIST_FIELDS:
        if field in spec:
            assert list(getattr(msg, field)) == spec[field], field
    if "date" in spec:
        assert (msg.date.isoformat() if msg.date else None) == spec["date"]
    if msg.date is not None:
        assert msg.date.tzinfo is not None
        assert msg.date.utcoffset().total_seconds() == 0
    if "attachments" in spec:
        assert [a.filename for a in msg.attachments] == spec["attachments"]
    if "attachment_types" in spec:
        assert [a.content_type for a in msg.attachments] == spec["attachment_types"]
    if "inline" in spec:
        assert [a.content_id for a in msg.attachments if a.is_inline] == spec["inline"]
    if "auto_reason_contains" in spec:
        assert spec["auto_reason_contains"] in (msg.auto_reason or "")
    for phrase in spec.get("reply_contains", []):
        assert phrase in msg.reply_text
    for phrase in spec.get("reply_excludes", []):
        assert phrase not in msg.reply_text
    for phrase in spec.get("text_contains", []):
        assert phrase in msg.text_body
    for phrase in spec.get("text_excludes", []):
        assert phrase not in msg.text_body
    for phrase in spec.get("html_contains", []):
        assert phrase in (msg.html_body or "")
    for phrase in spec.get("html_excludes", []):
        assert phrase.lower() not in (msg.html_body or "").lower()
    for defect in spec.get("defects_contains", []):
        assert defect in msg.defects
    if "forwarded" in spec:
        _check_forwarded(msg.forwarded, spec["forwarded"])
    _check_invariants(msg)


def _check_forwarded(forwarded, spec):
    if spec is None:
        assert forwarded is None
        return
    assert forwarded is not None
    for key in ("kind", "from_address", "from_name", "subject"):
        if key in spec:
            assert getattr(forwarded, key) == spec[key], key
    assert spec["text_contains"] in forwarded.text


def _check_invariants(msg):
    """What every ParsedMessage promises, whatever the input."""
    texts = [msg.subject, msg.from_address, msg.from_name, msg.text_body, msg.reply_text]
    texts += [msg.html_body or "", msg.message_id, *msg.to, *msg.cc, *msg.references]
    texts += [a.filename for a in msg.attachments]
    for text in texts:
        assert isinstance(text, str)
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: storable in PostgreSQL
    assert msg.message_id and "<" not in msg.message_id
    assert msg.from_address == msg.from_address.lower()
    for attachment in msg.attachments:
        assert attachment.size == len(attachment.content)
        assert attachment.filename
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert not attachment.filename.startswith(".")
    if msg.is_bounce:
        assert msg.is_auto_reply
    if msg.is_auto_reply:
        assert msg.auto_reason
        assert msg.suppress_autoresponse


# --- HTML sanitising ----------------------------------------------------------------------------

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<svg onload=alert(1)><circle/></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p onmouseover="alert(1)" onclick=alert(2)>x</p>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<style>@import 'javascript:alert(1)';</style>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<<script>script>alert(1)<</script>/script>",
    '<img src="https://tracker.example/pixel.gif">',
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_sanitize_html_removes_active_content(payload):
    cleaned = sanitize_html(f"<div>safe text</div>{payload}").lower()
    assert "<script" not in cleaned
    assert not re.search(r"\son\w+\s*=", cleaned)
    assert "javascript:" not in cleaned
    assert "data:text/html" not in cleaned
    assert "<iframe" not in cleaned and "<svg" not in cleaned and "<form" not in cleaned
    assert "tracker.example" not in cleaned
    assert "safe text" in cleaned


def test_sanitize_html_keeps_formatting_links_and_cid_images():
    cleaned = sanitize_html(
        '<p style="color: red; position: fixed">Hi <b>there</b></p>'
        '<a href="https://example.com/kb/1">KB</a><img src="cid:logo@x" alt="logo">'
        "<table><tr><td>cell</td></tr></table>"
    )
    assert '<p style="color:red">' in cleaned
    assert "<b>there</b>" in cleaned
    assert 'href="https://example.com/kb/1"' in cleaned
    assert 'rel="noopener noreferrer nofollow"' in cleaned
    assert 'src="cid:logo@x"' in cleaned
    assert "<td>cell</td>" in cleaned


# --- filenames ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("con.txt", "con_.txt"),
        ("CON", "CON_"),
        ("lpt1.log", "lpt1_.log"),
        ("evil\x00.txt", "evil.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("zero\u200bwidth\ufeff.doc", "zerowidth.doc"),
        ("line\r\nbreak.txt", "linebreak.txt"),
        (".htaccess", "htaccess"),
        ("...", "attachment-3.pdf"),
        ("   ", "attachment-3.pdf"),
        ("", "attachment-3.pdf"),
        (None, "attachment-3.pdf"),
        ('what?<is>"this"|*.txt', "what__is__this___.txt"),
        ("trailing dots...", "trailing dots"),
        ("Re\u0301sume\u0301.pdf", "Résumé.pdf"),
        ("Bericht März 2026.xlsx", "Bericht März 2026.xlsx"),
    ],
)
def test_clean_filename(raw, expected):
    assert clean_filename(raw, index=3, content_type="application/pdf") == expected


def test_clean_filename_bounds_length_and_keeps_extension():
    cleaned = clean_filename("ä" * 500 + ".pdf", index=1, content_type="application/pdf")
    assert len(cleaned.encode("utf-8")) <= MAX_FILENAME_BYTES
    assert cleaned.endswith(".pdf")
    assert cleaned.startswith("ää")


def _with_attachment_headers(headers: bytes) -> bytes:
    return (
        b"From: a@example.com\r\nTo: desk@example.com\r\nSubject: Invoice\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b"--XX\r\n" + headers + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"JVBERi0xLjQK\r\n--XX--\r\n"
    )


_UTF8_NAME = "Überweisung März.pdf".encode()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # Raw UTF-8 in quoted and unquoted parameters, in either header.
        (b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="'
         + _UTF8_NAME + b'"', "Überweisung März.pdf"),
        (b'Content-Type: application/pdf; name="' + _UTF8_NAME + b'"', "Überweisung März.pdf"),
        (b"Content-Type: application/pdf; name=" + _UTF8_NAME.replace(b" ", b"_"),
         "Überweisung_März.pdf"),
        (b"Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
         b' filename="\xe8\xa1\xa8\xe6\xa0\xbc.pdf"', "表格.pdf"),
        # Raw bytes that are not UTF-8 still read as the sender's (Windows) code page.
        (b'Content-Type: application/pdf; name="\xdcberweisung M\xe4rz.pdf"',
         "Überweisung März.pdf"),
        # RFC 2231 and encoded words are unchanged.
        (b"Content-Type: application/pdf\r\nContent-Disposition: attachment;"
         b" filename*=utf-8''%C3%9Cberweisung%20M%C3%A4rz.pdf", "Überweisung März.pdf"),
        (b'Content-Type: application/pdf; name="=?utf-8?q?=C3=9Cberweisung_M=C3=A4rz.pdf?="',
         "Überweisung März.pdf"),
    ],
)  # fmt: skip
def test_raw_8bit_attachment_names_decode(headers, expected):
    (attachment,) = parse_message(_with_attachment_headers(headers)).attachments
    assert attachment.filename == expected
    assert "\ufffd" not in attachment.filename


def test_fallback_names_use_content_type():
    assert clean_filename(None, index=1, content_type="application/ms-tnef") == "attachment-1.bin"
    assert clean_filename(None, index=2, content_type="image/png") == "attachment-2.png"
    assert clean_filename(None, index=4, content_type="message/rfc822") == "attachment-4.eml"


# --- charsets -----------------------------------------------------------------------------------

_RU = "Добрый день! У меня не работает принтер на третьем этаже, помогите пожалуйста."


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("Grüße".encode(), "utf-8", "Grüße"),
        ("Grüße aus Köln".encode(), "iso-8859-1", "Grüße aus Köln"),  # UTF-8 mislabelled
        ("“Quote” – €5".encode("cp1252"), "utf-8", "“Quote” – €5"),  # cp1252 labelled UTF-8
        ("“Quote” – €5".encode("cp1252"), "us-ascii", "“Quote” – €5"),
        ("“Quote” – €5".encode("cp1252"), "iso-8859-1", "“Quote” – €5"),  # latin-1 means cp1252
        ("café".encode("latin-1"), "x-unknown", "café"),
        ("café".encode("latin-1"), "unknown-8bit", "café"),
        ("café".encode("latin-1"), None, "café"),
        ("café".encode("latin-1"), "base64", "café"),  # a codec, but not a charset
        ("café".encode("latin-1"), "\x00garbage", "café"),
        (_RU.encode("koi8-r"), "koi8-r", _RU),
        (_RU.encode("koi8-r"), None, _RU),  # long enough for detection
        (_RU.encode("cp1251"), "utf-8", _RU),
        ("会議室のプロジェクター".encode("shift_jis"), "shift_jis", "会議室のプロジェクター"),
        ("髙橋".encode("cp932"), "shift_jis", "髙橋"),  # cp932 extension under a shift_jis label
        ("打印机坏了".encode("gb2312"), "gb2312", "打印机坏了"),
        ("镕".encode("gbk"), "gb2312", "镕"),  # GBK character under a gb2312 label
        ("こんにちは".encode("iso-2022-jp"), "iso-2022-jp", "こんにちは"),
        ("Grüße".encode("utf-16"), "utf-16", "Grüße"),
        (b"plain ascii", "utf-7", "plain ascii"),
        ("\ufeffGrüße".encode(), None, "Grüße"),
    ],
)
def test_decode_bytes(data, declared, expected):
    assert decode_bytes(data, declared) == expected


@given(
    st.binary(max_size=300),
    st.sampled_from(
        [None, "utf-8", "us-ascii", "x-unknown", "gb2312", "utf-16", "iso-2022-jp", "koi8-r"]
    ),
)
@settings(max_examples=150, deadline=None)
def test_decode_bytes_never_raises(data, declared):
    assert isinstance(decode_bytes(data, declared), str)


# --- quote stripping per client ------------------------------------------------------------------

QUOTE_CASES = {
    "gmail": (
        "Works now.\n\nOn Mon, 5 Jan 2026 at 10:00, Service Desk <sd@example.com> wrote:\n\n"
        "> Please retry.\n>\n",
        "Works now.",
    ),
    "gmail wrapped intro": (
        "Works now.\n\nOn Mon, 5 Jan 2026 at 10:00, A Very Long Display Name Of Someone <\n"
        "someone@example.com> wrote:\n\n> old\n",
        "Works now.",
    ),
    "gmail converted from html (no > quotes)": (
        "Thanks!\n\nOn Mon, 5 Jan 2026 at 10:00, Service Desk <sd@example.com> wrote:\n"
        "Please retry.\n",
        "Thanks!",
    ),
    "apple iphone": (
        "Fixed.\n\nSent from my iPhone\n\n> On 5 Jan 2026, at 10:00, SD <sd@example.com> wrote:\n"
        ">\n> old\n",
        "Fixed.",
    ),
    "thunderbird": ("Fine.\n\nOn 05/01/2026 10:00, Service Desk wrote:\n> old text\n", "Fine."),
    "outlook original message": (
        "See below.\n\n-----Original Message-----\nFrom: SD\nSent: Monday\nTo: me\n"
        "Subject: x\n\nold",
        "See below.",
    ),
    "outlook header block": (
        "Done.\n\nFrom: Service Desk <sd@example.com>\nSent: Monday, January 5, 2026 10:00 AM\n"
        "To: Me <me@example.com>\nSubject: RE: thing\n\nold text",
        "Done.",
    ),
    "outlook rule then block": (
        "Done.\n\n________________________________\nFrom: SD <sd@example.com>\n"
        "Sent: Monday\nTo: me\nSubject: thing\n\nold",
        "Done.",
    ),
    "outlook bold header block from html": (
        "Done.\n\n*From:* SD <sd@example.com>\n*Sent:* Monday\n*To:* me\n*Subject:* x\nold",
        "Done.",
    ),
    "german outlook": (
        "Erledigt.\n\nVon: SD <sd@example.com>\nGesendet: Montag, 5. Januar 2026 10:00\n"
        "An: Ich\nBetreff: AW: Drucker\n\nalt",
        "Erledigt.",
    ),
    "german thunderbird": (
        "Danke.\n\nAm 05.01.2026 um 10:00 schrieb Service Desk:\n> alt\n",
        "Danke.",
    ),
    "german apple": (
        "Danke.\n\nVon meinem iPhone gesendet\n\n"
        "> Am 05.01.2026 um 10:00 schrieb SD <sd@x.de>:\n> alt",
        "Danke.",
    ),
    "french gmail nbsp": (
        "Merci.\n\nLe lun. 5 janv. 2026 à 10:00, SD <sd@x.fr> a\u00a0écrit\u202f:\n\n> vieux\n",
        "Merci.",
    ),
    "french outlook": (
        "Merci.\n\nDe : SD <sd@x.fr>\nEnvoyé : lundi 5 janvier 2026 10:00\nÀ : Moi\n"
        "Objet : RE: souci\n\nvieux",
        "Merci.",
    ),
    "spanish": (
        "Gracias.\n\nEl lun, 5 ene 2026 a las 10:00, SD (<sd@x.es>) escribió:\n> viejo",
        "Gracias.",
    ),
    "italian": (
        "Grazie.\n\nIl giorno lun 5 gen 2026 alle ore 10:00 SD ha scritto:\n> vecchio",
        "Grazie.",
    ),
    "dutch": ("Bedankt.\n\nOp ma 5 jan. 2026 om 10:00 schreef SD <sd@x.nl>:\n> oud", "Bedankt."),
    "signature dash dash space": ("Answer here.\n\n-- \nJohn Smith\nACME Corp", "Answer here."),
    "bottom posted": (
        "On Mon, 5 Jan 2026, SD wrote:\n> Which model?\n\nA T14.\n\n> Power?\n\nNo.",
        "A T14.\n\nNo.",
    ),
    "forward marker": (
        "FYI\n\n---------- Forwarded message ---------\nFrom: A <a@x.com>\nDate: Mon\n"
        "Subject: s\nTo: b@x.com\n\nbody",
        "FYI",
    ),
}


@pytest.mark.parametrize("case", sorted(QUOTE_CASES))
def test_extract_reply_per_client(case):
    text, expected = QUOTE_CASES[case]
    assert extract_reply(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "On Monday the printer broke again. Alice wrote the ticket.\nPlease help.",
        "From: my laptop I cannot reach the share.\nIt worked yesterday.",
        "- restart the server\n- check the logs\nThanks, then it should work.",
        "Best regards\nJohn",
        "The log says:\n\nDate: 2026-01-05\nError: disk full",
    ],
)
def test_extract_reply_keeps_ordinary_text(text):
    assert extract_reply(text) == text


# --- classification -----------------------------------------------------------------------------


def _email(headers=(), body="Hello", subject="Printer", sender="user@example.com"):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "servicedesk@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = "<m1@example.com>"
    for name, value in headers:
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


@pytest.mark.parametrize(
    ("headers", "subject", "sender", "auto", "bounce"),
    [
        ([], "Printer", "user@example.com", False, False),
        ([("Auto-Submitted", "auto-replied")], "Printer", "user@example.com", True, False),
        ([("Auto-Submitted", "auto-generated; owner-email=x@y")], "Hi", "a@b.c", True, False),
        ([("Auto-Submitted", "no")], "Printer", "user@example.com", False, False),
        ([("X-Autoreply", "yes")], "Printer", "user@example.com", True, False),
        ([("X-Autorespond", "Vacation")], "Printer", "user@example.com", True, False),
        ([("Precedence", "bulk")], "Printer", "user@example.com", True, False),
        ([("Precedence", "junk")], "Printer", "user@example.com", True, False),
        ([("Precedence", "list")], "Printer", "user@example.com", True, False),
        ([("Precedence", "first-class")], "Printer", "user@example.com", False, False),
        ([("X-Auto-Response-Suppress", "All")], "Printer", "user@example.com", True, False),
        ([("X-Auto-Response-Suppress", "DR, OOF, AutoReply")], "Hi", "a@b.c", True, False),
        ([("X-Auto-Response-Suppress", "RN, NRN")], "Printer", "user@example.com", False, False),
        ([("List-Id", "<it.lists.example.com>")], "Printer", "user@example.com", False, False),
        ([("Return-Path", "<>")], "Printer", "user@example.com", True, False),
        ([], "Out of Office: Printer", "user@example.com", True, False),
        ([], "Automatische Antwort: Drucker", "user@example.com", True, False),
        ([], "RE: Automatic reply: Printer", "user@example.com", False, False),
        ([], "Undelivered Mail", "MAILER-DAEMON@mx.example.com", True, True),
        ([], "Undeliverable", "Postmaster@example.com", True, True),
        ([("X-Failed-Recipients", "gone@example.com")], "Failure", "x@y.z", True, True),
    ],
)
def test_auto_reply_and_bounce_rules(headers, subject, sender, auto, bounce):
    msg = parse_message(_email(headers, subject=subject, sender=sender))
    assert (msg.is_auto_reply, msg.is_bounce) == (auto, bounce)
    assert bool(msg.auto_reason) == auto


def test_list_id_marks_list_mail_without_making_it_automatic():
    msg = parse_message(_email([("List-Id", "<it.lists.example.com>")]))
    assert msg.is_list_mail and not msg.is_auto_reply
    assert msg.suppress_autoresponse


def test_ticket_ref_takes_the_first_reference_and_normalises_case():
    msg = parse_message(_email(subject="Re: [chg-0000042] and [INC-000123] [INC-12]"))
    assert msg.ticket_ref == "CHG-0000042"
    assert parse_message(_email(subject="INC-000123 without brackets")).ticket_ref is None
    assert parse_message(_email(subject="[INC-12345] too short")).ticket_ref is None


# --- identifiers, dates and errors --------------------------------------------------------------


def test_missing_message_id_is_synthesised_from_the_raw_bytes():
    raw = CORPUS_BYTES["no_message_id.eml"]
    first, second = parse_message(raw), parse_message(raw)
    assert first.message_id_synthesised
    assert first.message_id == second.message_id
    assert first.message_id == f"{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_ID_DOMAIN}"
    assert parse_message(raw + b"\n").message_id != first.message_id


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("<abc@example.com>", "abc@example.com"),
        ("  <abc@example.com> (comment)", "abc@example.com"),
        ("abc@example.com", "abc@example.com"),
        ("<first@x> <second@x>", "first@x"),
    ],
)
def test_message_id_normalisation(header, expected):
    raw = _email().replace(b"<m1@example.com>", header.encode())
    assert parse_message(raw).message_id == expected


def test_thread_message_ids_prefer_in_reply_to_then_newest_reference():
    raw = _email([("In-Reply-To", "<c@x>"), ("References", "<a@x> <b@x> <c@x>")])
    assert parse_message(raw).thread_message_ids == ("c@x", "b@x", "a@x")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mon, 5 Jan 2026 10:00:00 +0100", datetime(2026, 1, 5, 9, 0, tzinfo=UTC)),
        ("Mon, 5 Jan 2026 10:00:00 -0000", datetime(2026, 1, 5, 10, 0, tzinfo=UTC)),
        ("5 Jan 2026 10:00:00 GMT", datetime(2026, 1, 5, 10, 0, tzinfo=UTC)),
        ("yesterday at noon", None),
        ("Mon, 99 Foo 2026 99:99:99 +9999", None),
    ],
)
def test_dates_are_aware_utc_or_none(value, expected):
    raw = _email([("Date", value)])
    assert parse_message(raw).date == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n  ",
        b"\xef\xbb\xbf",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"just some text\nno headers",
    ],
)
def test_not_an_email_raises_message_parse_error(raw):
    with pytest.raises(MessageParseError) as excinfo:
        parse_message(raw)
    assert excinfo.value.reason


def test_large_attachment_is_kept_intact():
    rng = random.Random(3)
    content = rng.randbytes(3 * 1024 * 1024)
    msg = EmailMessage()
    msg["From"] = "big@example.com"
    msg["To"] = "servicedesk@example.com"
    msg["Subject"] = "Memory dump"
    msg.set_content("Dump attached.")
    msg.add_attachment(content, maintype="application", subtype="octet-stream", filename="dump.bin")
    parsed = parse_message(msg.as_bytes())
    assert parsed.reply_text == "Dump attached."
    (attachment,) = parsed.attachments
    assert attachment.filename == "dump.bin"
    assert attachment.size == len(content)
    assert attachment.content == content


# --- robustness ---------------------------------------------------------------------------------


def _parse_or_error(raw):
    try:
        msg = parse_message(raw)
    except MessageParseError:
        return
    _check_invariants(msg)


@given(st.binary(max_size=2000))
@settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_only_raise_message_parse_error(raw):
    _parse_or_error(raw)


@given(st.binary(max_size=300))
@settings(max_examples=100, deadline=None)
def test_arbitrary_bodies_under_valid_headers_always_parse(body):
    raw = b"From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    msg = parse_message(raw + body)
    _check_invariants(msg)


@st.composite
def mutated_corpus_message(draw):
    name = draw(st.sampled_from(PARSEABLE))
    data = bytearray(CORPUS_BYTES[name])
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 200))]
        elif kind == "insert":
            data[position:position] = draw(
                st.sampled_from(
                    [
                        b"\r\n",
                        b"\n\n",
                        b"--",
                        b"=?utf-8?b?",
                        b"?=",
                        b"\x00",
                        b"\xff\xfe",
                        b">",
                        b"=",
                    ]
                )
                | st.binary(max_size=40)
            )
        elif kind == "truncate":
            del data[position:]
        elif kind == "duplicate":
            data[position:position] = data[position : position + 300]
    return bytes(data)


@given(mutated_corpus_message())
@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_mutated_corpus_messages_only_raise_message_parse_error(raw):
    _parse_or_error(raw)


def test_deeply_nested_multipart_does_not_raise():
    depth = 400
    parts = [b"From: a@example.com\r\nSubject: deep\r\n"]
    for level in range(depth):
        parts.append(
            b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
        )
    parts.append(b"Content-Type: text/plain\r\n\r\ndeep text\r\n")
    msg = parse_message(b"".join(parts))
    _check_invariants(msg)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!<8", ["!8"]),  # found by the mutated-corpus fuzz test
        ("abc@x>", ["abc@x"]),
        ("a<b c>d", ["ab", "cd"]),
        ("<a@x> <b@x>", ["a@x", "b@x"]),
    ],
)
def test_message_ids_without_brackets_never_keep_one(value, expected):
    from servio.mail.headers import message_ids

    assert message_ids(value) == expected
