"""Uploaded files go to a per-test directory, never under var/."""

import pytest

from tests.filesystems import full_disk, read_only_disk  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
