"""The benchmark's in-process pieces: the baseline view, the queries-per-list counter and the
search benchmark's requests."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from bench import tickets as bench
from servio import demo
from servio.accounts.models import User
from servio.accounts.services import token_create

pytestmark = pytest.mark.django_db


def test_list_queries_do_not_grow_with_the_page():
    call_command("generate", "--tickets", "400", "--days", "2", "--seed", "9", "--no-progress")
    agent = User.objects.get(email=demo.AGENT_EMAIL)
    token = token_create(actor=agent, name="bench", scope="read").plaintext
    counts = bench.count_queries(token, bench.busiest_team())
    assert counts[10] == counts[50] > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the baseline runs on PostgreSQL")
@override_settings(ROOT_URLCONF="bench.baseline")
def test_baseline_inserts_one_ticket_wide_row():
    from bench.baseline import TABLE, ensure_table

    call_command("generate", "--tickets", "5", "--no-progress")
    ensure_table()
    with connection.cursor() as cursor:  # a copy left by a run before some migration
        cursor.execute(f"CREATE INDEX stale_index ON {TABLE} (title)")
    ensure_table()
    user = User.objects.filter(role="requester").first()
    body = {"title": "Printer", "description": "jams", "requester": user.pk}
    body["organization"] = user.organization_id
    response = Client().post("/baseline/tickets", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT title, requester_id FROM {TABLE} WHERE id = %s", [response.json()["id"]]
        )
        assert cursor.fetchone() == ("Printer", user.pk)
        shapes = (
            "SELECT regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes WHERE tablename = %s"
        )
        cursor.execute(shapes, [TABLE])
        baseline_indexes = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(shapes, ["tickets_ticket"])
        assert baseline_indexes == sorted(row[0] for row in cursor.fetchall())
    bad = Client().post("/baseline/tickets", "{}", content_type="application/json")
    assert bad.status_code == 422


def test_figures_print_one_line_each(capsys):
    bench.figure("tickets.queue.p95", 12.345, "ms")
    bench.figure("tickets.list.queries.limit10", 5, "queries")
    bench.figure("tickets.create.vs_baseline", 0.51234, "ratio")
    bench.figure("tickets.create.throughput", 812.4, "tickets/s")
    assert capsys.readouterr().out.splitlines() == [
        "tickets.queue.p95 12.3 ms",
        "tickets.list.queries.limit10 5 queries",
        "tickets.create.vs_baseline 0.512 ratio",
        "tickets.create.throughput 812 tickets/s",
    ]


def test_rounds_combine_into_their_means():
    from bench.tickets import combined

    rounds = [
        {"throughput": 400.0, "p50_ms": 30.0, "p95_ms": 60.0, "errors": 0},
        {"throughput": 500.0, "p50_ms": 20.0, "p95_ms": 50.0, "errors": 2},
    ]
    assert combined(rounds) == {"throughput": 450.0, "p50_ms": 25.0, "p95_ms": 55.0, "errors": 2}


def test_search_cases_answer_for_each_user_of_the_generated_desk():
    from bench import search as bench_search

    call_command("generate", "--tickets", "300", "--days", "2", "--seed", "3", "--no-progress")
    people = bench_search.users()
    assert set(people) == {"agent", "requester", "requester_own"}
    requests = bench_search.requests_for(people)
    times = bench_search.measure(requests, runs=1, warmup=0)
    for user in people:
        for case in bench_search.CASES:
            assert len(times[f"{user}.{case}"]) == 1


def test_percentiles_are_nearest_rank():
    from bench.search import percentile

    times = [float(n) for n in range(1, 21)]
    assert percentile(times, 0.95) == 20.0
    assert percentile(times[:10], 0.95) == 10.0
    assert percentile([5.0], 0.95) == 5.0
