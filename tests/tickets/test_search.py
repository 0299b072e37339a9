"""Ticket search: quoted phrases, hostile text, and pages of a word search found in a window of
the newest tickets (decision 28), the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from servio.core.errors import ValidationFailed
from servio.tickets import filters, search
from servio.tickets.models import Ticket
from servio.tickets.search import Term
from tests.tickets.helpers import field_names, log

pytestmark = pytest.mark.django_db


def refs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["reference"] for item in response.json()["items"]]


# --- reading the text (no database) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("disk full", [Term(("disk",)), Term(("full",), prefix=True)]),
        ('"disk full"', [Term(("disk", "full"))]),  # a closed phrase: the words themselves
        ('"disk fu', [Term(("disk", "fu"), prefix=True)]),  # unclosed: runs to the end
        ('"print"', [Term(("print",))]),  # quotes turn the prefix off
        ('"disk full" server', [Term(("disk", "full")), Term(("server",), prefix=True)]),
        ('server "disk full" !!', [Term(("server",)), Term(("disk", "full"))]),
        ('printer ""', [Term(("printer",), prefix=True)]),
        (
            "E_ACCESSDENIED app-prd",
            [Term(("E",)), Term(("ACCESSDENIED",)), Term(("app",)), Term(("prd",), prefix=True)],
        ),
        ('" "', []),
        ("!!! ??? -- &", []),
        ('"', []),
    ],
)
def test_the_text_is_read_as_words_and_quoted_phrases(text, terms):
    assert search.parse(text) == terms


def test_a_text_of_too_many_words_is_refused_naming_q():
    search.parse(" ".join(["word"] * search.MAX_WORDS))
    with pytest.raises(ValidationFailed) as refused:
        search.parse('"' + " ".join(["word"] * (search.MAX_WORDS + 1)))
    assert set(refused.value.errors) == {"q"}


def test_no_query_syntax_reaches_either_engine():
    terms = search.parse("a & b | !c <-> d:* NEAR(e f) \"g h\" 'i' \\ -j")
    assert search._tsquery(terms) == "a & b & c & d & NEAR & e & f & g <-> h & i & j:*"
    assert search._fts5_query(terms) == (
        '"a" AND "b" AND "c" AND "d" AND "NEAR" AND "e" AND "f" AND "g h" AND "i" AND "j"*'
    )


# --- phrases and hostile text through the API, on the database under test ---------------------


@pytest.fixture
def disks(personas):
    p = personas
    return {
        "phrase": log(p.requester_acme, title="Disk full on the file server"),
        "reversed": log(p.requester_acme, title="Full backup fails", description="disk errors"),
        "apart": log(p.requester_acme, title="Server disk almost full"),
        "described": log(
            p.requester_acme, title="Cannot save", description="Windows says the disk full error"
        ),
    }


def test_a_quoted_phrase_matches_its_words_together_and_in_order(personas, api_as, disks):
    client = api_as(personas.agent_desk)

    def found(q: str) -> set[str]:
        return set(refs(client.get("tickets", data={"q": q})))

    d = {name: ticket.reference for name, ticket in disks.items()}
    assert found("disk full") == set(d.values())  # bare words: each anywhere
    assert found('"disk full"') == {d["phrase"], d["described"]}  # in the title or description
    assert found('"full disk"') == set()
    assert found('"disk almost full"') == {d["apart"]}
    assert found('"disk full" server') == {d["phrase"]}  # a phrase and a word
    assert found('"DISK FULL"') == {d["phrase"], d["described"]}  # case does not matter
    assert found('"disk fu') == {d["phrase"], d["described"]}  # unclosed: its last word a prefix
    assert found('"disk f"') == set()  # closed: no prefix
    assert found('"disk errors"') == {d["reversed"]}
    # Only what the user may see: the same phrase, another organisation's requester.
    assert refs(api_as(personas.requester_globex).get("tickets", data={"q": '"disk full"'})) == []


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        '"disk',
        'disk"',
        '"disk" "full',
        "!!!",
        "&|!<->:*()",
        "'",
        "\\",
        "%_%",
        "NEAR(disk full)",
        "ü" * 200,
        "x" * 200,
        "disk:* | !full",
        "²³ ﬁle e\u0301 日本語",
        '"日本語 テスト"',
        "\u200b\u200d",
    ],
)
def test_hostile_text_answers_a_clear_result(personas, api_as, disks, q):
    response = api_as(personas.agent_desk).get("tickets", data={"q": q})
    assert response.status_code == 200, response.content
    assert isinstance(response.json()["items"], list)


def test_too_long_too_many_words_or_nul_is_a_422_naming_q(personas, api_as, disks):
    client = api_as(personas.agent_desk)
    for q in ["x" * 201, " ".join(["disk"] * (search.MAX_WORDS + 1)), "disk\x00full"]:
        response = client.get("tickets", data={"q": q})
        assert response.status_code == 422, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert field_names(response) == {"q"}


def test_punctuation_only_finds_nothing_and_blank_finds_all(personas, api_as, disks):
    client = api_as(personas.agent_desk)
    assert refs(client.get("tickets", data={"q": "?!"})) == []
    assert len(refs(client.get("tickets", data={"q": "  "}))) == len(disks)


def test_the_desk_searches_phrases_and_names_q_when_it_refuses(client, personas, disks):
    client.force_login(personas.agent_desk)
    page = client.get("/desk/", {"queue": "all", "q": '"disk almost full"'})
    assert page.status_code == 200
    assert disks["apart"].reference in page.content.decode()
    assert disks["phrase"].reference not in page.content.decode()
    page = client.get("/desk/", {"queue": "all", "q": " ".join(["disk"] * 13)})
    assert page.status_code == 200 and "q" in page.context["form"].errors


# --- pages of a word search: found in a window first, the same as without it -----------------


@pytest.fixture
def many(personas):
    """30 tickets, a third of them about toner, created an hour apart in pairs (ties)."""
    p = personas
    now = timezone.now()
    tickets = []
    for i in range(30):
        ticket = log(
            p.requester_acme if i % 4 else p.requester_globex,
            title=f"Toner low, tray {i}" if i % 3 == 0 else f"Monitor flickers {i}",
        )
        when = now - timedelta(hours=30 - i // 2)
        Ticket.objects.filter(pk=ticket.pk).update(created_at=when, updated_at=when)
        tickets.append(Ticket.objects.get(pk=ticket.pk))
    # A rare word in the oldest tickets only: no window near the start holds a page of it.
    for ticket in tickets[:2]:
        Ticket.objects.filter(pk=ticket.pk).update(description="Smells of ozone")
    return tickets


def _pages(client, **params) -> list[str]:
    seen, cursor = [], None
    for _ in range(40):
        page = client.get("tickets", data={**params, **({"cursor": cursor} if cursor else {})})
        seen += refs(page)
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the pages did not end")


@pytest.mark.parametrize("sort", sorted(filters.WINDOWED_SORTS))
@pytest.mark.parametrize("q", ["toner", "ozone", "flick"])
@pytest.mark.parametrize("per_row", [1, 3, 400])
def test_windowed_pages_are_the_pages_of_the_whole_list(
    personas, api_as, many, monkeypatch, sort, q, per_row
):
    """Small windows make every path run: page found in the window, every remaining match read
    (the window held too few), and fewer rows left than a window."""
    monkeypatch.setattr(filters, "SEARCH_WINDOW_PER_ROW", per_row)
    field = "created_at" if "created" in sort else "updated_at"
    for who in ("agent_desk", "requester_acme", "requester_globex"):
        user = getattr(personas, who)
        matching = search.search(Ticket.objects.visible_to(user), q)
        order = [f"-{field}", "-id"] if sort.startswith("-") else [field, "id"]
        expected = [t.reference for t in matching.order_by(*order)]
        client = api_as(user)
        assert _pages(client, q=q, sort=sort, limit=2) == expected, (who, q)
        assert _pages(client, q=q, sort=sort, limit=50) == expected, (who, q)


def test_a_word_search_is_planned_for_its_words(personas, api_as, many):
    client = api_as(personas.agent_desk)
    with CaptureQueriesContext(connection) as words:
        client.get("tickets", data={"q": "toner"})
    with CaptureQueriesContext(connection) as plain:
        client.get("tickets", data={"sort": "priority"})
    planned = ["force_custom_plan" in q["sql"] for q in words.captured_queries]
    assert any(planned) is (connection.vendor == "postgresql")
    assert not any("force_custom_plan" in q["sql"] for q in plain.captured_queries)


def test_the_document_follows_every_change_of_title_and_description(personas, api_as, many):
    from servio.tickets import services

    client = api_as(personas.agent_desk)
    ticket = many[1]
    services.ticket_update(
        actor=personas.agent_desk,
        ticket=ticket,
        version=ticket.version,
        changes={"title": "Paper tray squeaks", "description": "since the move"},
    )
    assert refs(client.get("tickets", data={"q": '"tray squeaks"'})) == [ticket.reference]
    assert refs(client.get("tickets", data={"q": '"since the move"'})) == [ticket.reference]
    assert ticket.reference not in refs(client.get("tickets", data={"q": "flickers"}))


def test_codes_hosts_addresses_and_versions_are_found_on_both_databases(personas, api_as):
    """Punctuation splits words in the tickets as in the search text (migration 0007): an error
    code, a host name, a mail address, an IP address or a version is found by what was typed."""
    ticket = log(
        personas.requester_acme,
        title="ORA-01555 on srv-db01.example.com",
        description="Reported by jane.doe@example.com from 10.0.0.12 after the v2.3.1 update "
        "(E_ACCESSDENIED).",
    )
    other = log(personas.requester_acme, title="Printer jam", description="error 1555 on floor 3")
    client = api_as(personas.agent_desk)
    for q in (
        "ORA-01555",
        "ora-01555",
        '"ORA-01555"',
        "ORA 01555",
        "srv-db01.example.com",
        "srv-db01",
        "jane.doe@example.com",
        "10.0.0.12",
        "v2.3.1",
        "E_ACCESSDENIED",
        '"srv-db01.example.com"',
        "ORA-015",  # the last word is a prefix while typing
    ):
        assert refs(client.get("tickets", data={"q": q})) == [ticket.reference], q
    assert refs(client.get("tickets", data={"q": "error 1555"})) == [other.reference]
