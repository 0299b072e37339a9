"""`python -m bench [name ...]`: run the benchmarks (all by default), one line per figure.

A benchmark is any module `bench/<name>.py` with a `main()` run as `python -m bench.<name>`
(helpers of other benchmarks are listed in HELPERS). Each runs in its own process, so one that
cannot run (no PostgreSQL server, say) does not stop the others; the exit status is non-zero if
any failed. The ticket benchmarks take their settings from the environment:
SERVIO_BENCH_DATABASE_URL, SERVIO_BENCH_TICKETS (1000000), SERVIO_BENCH_DURATION (20 s).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELPERS = {"__init__", "__main__", "http_load", "baseline", "baseline_settings", "baseline_wsgi"}
# First: it generates the million tickets of `servio_bench` on a fresh machine, which other
# benchmarks (bench.reporting) then read instead of generating their own.
FIRST = ["tickets"]


def benchmarks() -> list[str]:
    names = sorted(
        path.stem
        for path in Path(__file__).parent.glob("*.py")
        if path.stem not in HELPERS and "def main(" in path.read_text()
    )
    return [n for n in FIRST if n in names] + [n for n in names if n not in FIRST]


def main(argv: list[str]) -> int:
    available = benchmarks()
    names = argv or available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown benchmark {unknown}; choose from {available}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"# bench.{name}", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=False)
        if done.returncode:
            failed.append(name)
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
