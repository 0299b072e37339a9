import pytest


@pytest.fixture(autouse=True)
def _survey_urls(settings):
    settings.ROOT_URLCONF = "tests.mail.urls"
