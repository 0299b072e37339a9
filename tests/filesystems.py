"""Real failing file systems for the storage tests: a full one and a read-only one.

Each is a tmpfs mounted on a directory of the test's own, so the kernel itself refuses the
write (ENOSPC, EROFS) exactly as a full or read-only disk does. Mounting needs root with
CAP_SYS_ADMIN (CI runs so); elsewhere the tests that need it are skipped, or fail under
SERVIO_CI_STRICT=1.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_component

FULL_SIZE = "64k"  # smaller than the test uploads, larger than the small ones


def _mount(target: Path, options: str) -> bool:
    done = subprocess.run(  # noqa: S603 - fixed command line on a directory of our own
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@contextlib.contextmanager
def tmpfs(target: Path, options: str) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    require_component(
        os.geteuid() == 0 and _mount(target, options),
        "a tmpfs mount (a real full or read-only file system)",
        "run the tests as root, as CI does (mount needs CAP_SYS_ADMIN)",
    )
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)  # noqa: S603, S607


def files_under(root: Path) -> list[Path]:
    """Every file (not directory) below root: what a failed write could have left behind."""
    return [path for path in root.rglob("*") if not path.is_dir()]


@pytest.fixture
def full_disk(settings, tmp_path) -> Iterator[Path]:
    """MEDIA_ROOT on a 64 KB file system: larger files fail with ENOSPC half-way."""
    with tmpfs(tmp_path / "full", f"size={FULL_SIZE},mode=0755") as root:
        settings.MEDIA_ROOT = root
        yield root


@pytest.fixture
def read_only_disk(settings, tmp_path) -> Iterator[Path]:
    """MEDIA_ROOT on a read-only file system: every write fails with EROFS."""
    with tmpfs(tmp_path / "read-only", "size=64k,ro") as root:
        settings.MEDIA_ROOT = root
        yield root
