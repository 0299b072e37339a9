import pytest

from tests.ui import ui_settings  # noqa: F401


@pytest.fixture(autouse=True)
def _ui(ui_settings):  # noqa: F811
    return ui_settings
