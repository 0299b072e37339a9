"""The template components of `servio/web/templatetags/ui.py`."""

from __future__ import annotations

import datetime as dt

from servio.sla.models import SlaTarget
from servio.web.templatetags import ui


def test_the_queue_names_each_clock_by_a_word_of_its_metric_s_label():
    """One source for a clock's name (DESIGN rule 8): the queue's words come from
    `SlaTarget.Metric`, every metric has one, and no two clocks read alike in a row."""
    assert ui.CLOCK_WORDS == {"first_response": "Response", "resolution": "Resolution"}
    assert set(ui.CLOCK_WORDS) == set(SlaTarget.Metric.values)
    for metric in SlaTarget.Metric:
        assert ui.CLOCK_WORDS[metric.value].lower() in metric.label.lower()
    assert len(set(ui.CLOCK_WORDS.values())) == len(ui.CLOCK_WORDS), (
        "Two SLA metrics end with the same word: give the queue cell another way to name them."
    )


def test_a_queue_badge_names_its_clock():
    due = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    badge = ui.sla_due_badge(due, False, SlaTarget.Metric.FIRST_RESPONSE)
    assert 'data-sla-words="Response"' in badge and "Response due in 2h" in badge
