"""A small HTTP/1.1 load generator on asyncio streams (standard library only).

Run as its own process so it does not share a CPU-bound interpreter with the server:

    python -m bench.http_load plan.json        # prints one JSON line with the results

The plan: {"host", "port", "concurrency", "duration", "warmup", "requests": [{"method", "path",
"headers", "body"}], "expect": [201]}. Client i cycles through the requests starting at
i * len(requests) // concurrency; "{n}" in a body becomes a number unique to the request.
Latency is measured from sending the request to reading the whole response; requests started
during the warm-up are not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import time


class HttpError(RuntimeError):
    pass


class Connection:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            try:
                self.writer.write(raw)
                await self.writer.drain()
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError, HttpError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, bytes]:
        reader = self.reader
        line = await reader.readline()
        if not line:
            raise HttpError("connection closed before the status line")
        status = int(line.split(b" ", 2)[1])
        length = None
        chunked = False
        close = False
        while True:
            header = await reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        if close:
            await self.close()
        return status, body


def build(host: str, method: str, path: str, headers: dict, body: str | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    data = (body or "").encode()
    if body is not None:
        lines.append(f"Content-Length: {len(data)}")
        if not any(k.lower() == "content-type" for k in headers):
            lines.append("Content-Type: application/json")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def run(plan: dict) -> dict:
    host, port = plan["host"], int(plan["port"])
    concurrency = int(plan["concurrency"])
    requests = plan["requests"]
    expect = set(plan.get("expect", [200]))
    counter = itertools.count(1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    measure_from = started + float(plan.get("warmup", 2.0))
    stop_at = measure_from + float(plan["duration"])
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failures: list[str] = []

    async def client(index: int) -> None:
        conn = Connection(host, port)
        offset = index * len(requests) // concurrency
        cycle = itertools.cycle(requests[offset:] + requests[:offset])
        try:
            while loop.time() < stop_at:
                spec = next(cycle)
                body = spec.get("body")
                if body is not None and "{n}" in body:
                    body = body.replace("{n}", str(next(counter)))
                raw = build(host, spec["method"], spec["path"], spec.get("headers", {}), body)
                sent = loop.time()
                try:
                    status, payload = await conn.request(raw)
                except (OSError, HttpError, asyncio.IncompleteReadError) as exc:
                    failures.append(repr(exc))
                    await asyncio.sleep(0.05)
                    continue
                done = loop.time()
                if sent >= measure_from and done <= stop_at:
                    latencies.append(done - sent)
                    statuses[status] = statuses.get(status, 0) + 1
                    if status not in expect and len(failures) < 5:
                        failures.append(f"{status}: {payload[:300]!r}")
        finally:
            await conn.close()

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    ok = [lat for lat in latencies]
    ok.sort()
    errors = sum(n for s, n in statuses.items() if s not in expect)

    def pct(q: float) -> float:
        return ok[min(len(ok) - 1, int(q * len(ok)))] * 1000 if ok else float("nan")

    return {
        "requests": len(ok),
        "errors": errors,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "throughput": (len(ok) - errors) / float(plan["duration"]),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(ok) * 1000 if ok else float("nan"),
        "failures": failures[:5],
    }


def main(argv: list[str]) -> None:
    with open(argv[1]) as handle:
        plan = json.load(handle)
    started = time.perf_counter()
    result = asyncio.run(run(plan))
    result["wall_s"] = time.perf_counter() - started
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
