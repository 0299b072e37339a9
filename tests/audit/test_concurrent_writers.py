"""Four processes write audited changes at once while two sealers race: no writer waits for
another, every event is sealed exactly once, and the chain and its checkpoints verify."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from tests.core.conftest import REPO, Live, wait_for

WRITERS, PER_WRITER, SEALERS = 4, 60, 2


def run(live: Live, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "servio.cli", *args],
        cwd=REPO,
        env=live.env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return done.stdout.decode()


def test_four_writer_processes_and_two_sealers_make_one_verified_chain(live: Live):
    checkpoints = live.tmp / "checkpoints.jsonl"
    live.env["SERVIO_AUDIT_CHECKPOINTS"] = str(checkpoints)
    go, stop = live.tmp / "go", live.tmp / "stop"
    roles = [("write", f"Writer {n}", "--count", str(PER_WRITER)) for n in range(WRITERS)]
    roles += [("seal", f"Sealer {n}", "--stop", str(stop)) for n in range(SEALERS)]
    processes = []
    for n, (command, name, *extra) in enumerate(roles):
        ready = live.tmp / f"process-{n}.ready"
        started = live.start(
            command, "--name", name, "--ready", str(ready), "--go", str(go), *extra,
            module="tests.audit.live_writers",
        )  # fmt: skip
        processes.append((ready, started))
    wait_for(lambda: all(r.exists() for r, _ in processes), timeout=60, what="all processes")
    go.touch()
    writers = [p for _, p in processes[:WRITERS]]
    for process in writers:
        assert process.wait(timeout=180) == 0, live.output(process)[-3000:]
    time.sleep(0.5)  # let the sealers run over what the writers left
    stop.touch()
    results = []
    for _, process in processes[WRITERS:]:
        assert process.wait(timeout=60) == 0, live.output(process)[-3000:]
        results.append(json.loads(live.output(process).strip().splitlines()[-1]))
    run(live, "audit", "seal", "--quiet")
    run(live, "audit", "checkpoint")

    written = WRITERS * PER_WRITER
    (events,) = live.query("SELECT COUNT(*) FROM audit_auditevent")[0]
    (seals, distinct_events, top) = live.query(
        "SELECT COUNT(*), COUNT(DISTINCT event_id), MAX(seq) FROM audit_auditseal"
    )[0]
    assert events == written
    assert seals == distinct_events == top == written  # each sealed once, numbers contiguous
    assert live.query("SELECT COUNT(*) FROM audit_auditpending")[0][0] == 0
    # Both sealers took turns; neither sealed an event twice (the unique seal per event).
    assert sum(r["sealed"] for r in results) <= written
    out = run(live, "audit", "verify", "--quiet", "--checkpoints", str(checkpoints))
    assert f"Audit trail intact: {written} events verified." in out
    assert f"the newest this database reaches is #{written}" in out
    lines = checkpoints.read_text().splitlines()
    assert len(lines) >= 2  # the sealers' and the final one
    assert json.loads(lines[-1])["seq"] == written
