"""Settings for previewing the UI before servio/urls.py and settings.py mount it (dev only)."""

from servio.settings import *  # noqa: F403
from servio.settings import NODE_MODULES
from servio.web.static_dirs import static_dirs

ROOT_URLCONF = "tests.web.urls"
STATICFILES_DIRS = static_dirs(NODE_MODULES)
