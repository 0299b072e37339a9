"""The benchmark's load client speaks HTTP/1.1 keep-alive and measures what it should."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import http_load


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Handler.seen.append(json.loads(body)["title"])
        payload = b'{"ok": true}'
        self.send_response(201)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"world"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def plan(port, requests, expect, concurrency=3):
    return {
        "host": "127.0.0.1",
        "port": port,
        "concurrency": concurrency,
        "duration": 0.6,
        "warmup": 0.2,
        "requests": requests,
        "expect": expect,
    }


def run_load(coroutine):
    """Run the load client on its own event loop (a browser test may own this thread's)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_posts_unique_bodies_and_reports_latency(server):
    Handler.seen.clear()
    body = json.dumps({"title": "ticket {n}"})
    result = run_load(
        http_load.run(plan(server, [{"method": "POST", "path": "/t", "body": body}], [201]))
    )
    assert result["requests"] > 10 and result["errors"] == 0
    assert result["statuses"] == {"201": result["requests"]}
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
    assert len(set(Handler.seen)) == len(Handler.seen)  # "{n}" is unique per request


def test_reads_chunked_bodies_and_counts_unexpected_statuses(server):
    requests = [
        {"method": "GET", "path": "/chunked", "body": None},
        {"method": "GET", "path": "/missing", "body": None},
    ]
    result = run_load(http_load.run(plan(server, requests, [200], concurrency=2)))
    assert set(result["statuses"]) == {"200", "404"}
    assert result["errors"] == result["statuses"]["404"] > 0
    assert result["failures"]
