"""Servio's settings with the baseline's URL conf (same middleware, database and server)."""

from servio.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline"
