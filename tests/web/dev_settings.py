"""Settings for previewing the UI with every vendor folder served (until settings.py maps
Chart.js itself); dev only."""

from servio.settings import *  # noqa: F403
from servio.settings import NODE_MODULES
from servio.web.static_dirs import static_dirs

STATICFILES_DIRS = static_dirs(NODE_MODULES)
