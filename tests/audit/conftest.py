"""The live database fixture of the multi-process tests, shared with tests/core."""

from tests.core.conftest import Live, _sqlite_template, live  # noqa: F401
