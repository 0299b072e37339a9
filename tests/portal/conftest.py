import pytest

from tests.filesystems import full_disk, read_only_disk  # noqa: F401 - fixtures
from tests.ui import ui_settings  # noqa: F401


@pytest.fixture(autouse=True)
def _ui(ui_settings):  # noqa: F811
    return ui_settings
