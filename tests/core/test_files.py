"""Uploaded file names and types."""

from __future__ import annotations

import base64

import pytest

from servio.core.files import MAX_NAME, clean_filename, served_content_type, sniff_content_type

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/absolute/path/x.txt", "x.txt"),
        ("C:\\Users\\me\\x.txt", "x.txt"),
        ("a\x00b.txt", "ab.txt"),
        ("tab\tand\nnewline.txt", "tabandnewline.txt"),
        ("\u202etxt.exe", "txt.exe"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ('quote"s<and>pipes|.txt', "quote_s_and_pipes_.txt"),
        ("NUL.txt", "_NUL.txt"),
        ("com1", "_com1"),
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        ("   ", "attachment"),
        ("café.txt", "café.txt"),
        ("cafe\u0301.txt", "café.txt"),  # normalised to one code point
    ],
)
def test_clean_filename(given, expected):
    assert clean_filename(given) == expected


def test_long_names_keep_their_extension():
    name = clean_filename("x" * 500 + ".pdf")
    assert len(name) <= MAX_NAME and name.endswith(".pdf")
    assert len(clean_filename("y." + "z" * 100)) <= MAX_NAME


def test_sniffing_trusts_bytes_not_names():
    assert sniff_content_type(PNG, "notes.txt") == "image/png"
    assert sniff_content_type(PDF, "image.png") == "application/pdf"
    assert sniff_content_type(b"<html><script>x</script>", "page.html") == "text/plain"
    assert sniff_content_type(b"a,b\n1,2", "data.csv") == "text/csv"
    assert sniff_content_type(b'{"a": 1}', "data.json") == "application/json"
    assert sniff_content_type(b"\x00\x01\x02binary", "x.txt") == "application/octet-stream"
    assert sniff_content_type(b"\xff\xfe\xfa not utf-8", "x.txt") == "application/octet-stream"


def test_only_safe_types_are_served_as_themselves():
    assert served_content_type("image/png") == "image/png"
    assert served_content_type("text/plain") == "text/plain"
    for risky in ("text/html", "image/svg+xml", "application/javascript", "application/xhtml+xml"):
        assert served_content_type(risky) == "application/octet-stream"
