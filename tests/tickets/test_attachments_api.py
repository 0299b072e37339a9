"""Attachments: the stored type is what the bytes are, names are cleaned, downloads are always
downloads with a safe type, and only people who may see the file get it."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from servio.tickets.models import Attachment
from tests.api.helpers import assert_problem
from tests.filesystems import files_under

pytestmark = pytest.mark.django_db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'


@pytest.fixture
def ref(personas, api_as):
    return (
        api_as(personas.requester_acme)
        .post("tickets", json={"title": "Screen"})
        .json()["reference"]
    )


def upload(client, ref, name, content, content_type="application/octet-stream", **form):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(f"tickets/{ref}/attachments", data={"file": file, **form})


def download(client, body):
    return client.get(body["download_url"])


def test_the_type_is_sniffed_from_the_bytes_and_served_safely(personas, api_as, ref):
    rita = api_as(personas.requester_acme)
    png = upload(rita, ref, "notes.txt", PNG, content_type="text/plain")
    assert png.status_code == 201, png.content
    assert png.json()["content_type"] == "image/png"
    served = download(rita, png.json())
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG

    for name, content in [("page.html", HTML), ("logo.svg", SVG), ("x.htm", b"<b>hi</b>")]:
        body = upload(rita, ref, name, content, content_type="text/html").json()
        assert body["content_type"] in ("text/plain", "application/octet-stream")
        served = download(rita, body)
        assert served["Content-Type"].split(";")[0] in ("text/plain", "application/octet-stream")
        assert "html" not in served["Content-Type"] and "svg" not in served["Content-Type"]

    exe = upload(rita, ref, "setup.pdf", b"MZ\x90\x00" + b"\x00" * 64).json()
    assert download(rita, exe)["Content-Type"] == "application/octet-stream"


def test_every_download_is_an_attachment_that_browsers_must_not_sniff(personas, api_as, ref):
    rita = api_as(personas.requester_acme)
    body = upload(rita, ref, "report.csv", b"a,b\n1,2\n").json()
    assert body["content_type"] == "text/csv"
    assert body["size"] == 8 and body["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    served = download(rita, body)
    assert served.status_code == 200
    assert served["Content-Disposition"].startswith("attachment;")
    assert 'filename="report.csv"' in served["Content-Disposition"]
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("inv\x00oice.pdf", "invoice.pdf"),
        ("\u202eexe.pdf", "exe.pdf"),  # right-to-left override: "fdp.exe" on screen
        ("my\u202egpj.exe", "mygpj.exe"),
        ('a"b<c>d|e?.txt', "a_b_c_d_e_.txt"),
        ("con.txt", "_con.txt"),
        ("...", "attachment"),
        ("  .hidden  ", "hidden"),
    ],
)
def test_names_are_cleaned(personas, api_as, ref, given, stored, tmp_path):
    rita = api_as(personas.requester_acme)
    body = upload(rita, ref, given, b"hello").json()
    assert body["filename"] == stored
    attachment = Attachment.objects.get(pk=body["id"])
    path = Path(attachment.file.path).resolve()
    assert path.is_relative_to(Path(django_settings.MEDIA_ROOT).resolve())
    assert path.read_bytes() == b"hello"
    disposition = download(rita, body)["Content-Disposition"]
    assert "\x00" not in disposition and "\u202e" not in disposition and "/" not in disposition


def test_requesters_cannot_list_or_download_internal_files(personas, api_as, ref):
    p = personas
    dana, rita = api_as(p.agent_desk), api_as(p.requester_acme)
    internal = upload(dana, ref, "diagnosis.txt", b"internal", internal="true")
    assert internal.status_code == 201 and internal.json()["internal"] is True
    public = upload(dana, ref, "howto.txt", b"public").json()
    assert [a["filename"] for a in rita.get(f"tickets/{ref}/attachments").json()] == ["howto.txt"]
    assert download(rita, internal.json()).status_code == 404
    assert download(rita, public).status_code == 200
    assert download(dana, internal.json()).status_code == 200
    # Files of one ticket are not reachable through another ticket's number.
    other = rita.post("tickets", json={"title": "Other"}).json()["reference"]
    assert rita.get(f"tickets/{other}/attachments/{public['id']}").status_code == 404


def test_a_file_missing_from_storage_is_a_404_not_a_500(personas, api_as, ref):
    rita = api_as(personas.requester_acme)
    body = upload(rita, ref, "gone.txt", b"soon gone").json()
    attachment = Attachment.objects.get(pk=body["id"])
    attachment.file.storage.delete(attachment.file.name)
    missing = download(rita, body)
    assert missing.status_code == 404 and "gone.txt" in missing.json()["detail"]


# --- storage failures: a real full or read-only file system (tests/filesystems.py) -------------


def test_a_full_disk_is_507_and_leaves_no_partial_file(personas, api_as, ref, full_disk):
    rita = api_as(personas.requester_acme)
    response = upload(rita, ref, "dump.bin", b"\x01" * 200_000)
    body = assert_problem(response, 507)
    assert body["type"].endswith("/insufficient_storage")
    assert "disk is full" in body["detail"] and "administrator" in body["detail"]
    assert files_under(full_disk) == []
    assert not Attachment.objects.exists()
    # Nothing was left taking the space: a small file fits.
    assert upload(rita, ref, "small.txt", b"fits").status_code == 201


def test_a_read_only_disk_is_503_with_retry_after(personas, api_as, ref, read_only_disk):
    response = upload(api_as(personas.requester_acme), ref, "notes.txt", b"hello")
    body = assert_problem(response, 503)
    assert "read-only" in body["detail"]
    assert int(response["Retry-After"]) > 0
    assert not Attachment.objects.exists()


def test_an_unreadable_stored_file_is_503_not_a_500(personas, api_as, ref):
    rita = api_as(personas.requester_acme)
    body = upload(rita, ref, "notes.txt", b"hello").json()
    path = Path(Attachment.objects.get(pk=body["id"]).file.path)
    path.unlink()
    path.mkdir()  # still there, but no longer a file the server can read
    response = download(rita, body)
    problem = assert_problem(response, 503)
    assert "could not read" in problem["detail"]
