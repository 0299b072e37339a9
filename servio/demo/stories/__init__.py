"""Life stories of tickets: what happened to each one, as the services would have recorded it.

`Desk.plan(...)` decides a ticket's final state from its age, lays out the steps that lead there
(log, triage, assign, start, replies, notes, hold and resume, reassignment, resolve, reopen,
close or cancel) and replays them on an in-memory ticket exactly as `tickets.services` applies
them: the same field changes, the same audit actions and diffs, the same version bumps and
milestone timestamps. Nothing here touches the database; `bulk.py` writes the result.

The package holds the odds (`odds.py`), the directory the stories draw from (`people.py`), the
ticket being lived and its steps (`plan.py`) and the desk that plans and replays them (`desk.py`).
"""

from servio.demo.stories.desk import Desk
from servio.demo.stories.odds import KINDS, Weighted
from servio.demo.stories.people import Directory, Person, ServiceInfo, TeamInfo
from servio.demo.stories.plan import AUTO, TARGETS, Plan, Story, transition_sources

__all__ = [
    "AUTO",
    "KINDS",
    "TARGETS",
    "Desk",
    "Directory",
    "Person",
    "Plan",
    "ServiceInfo",
    "Story",
    "TeamInfo",
    "Weighted",
    "transition_sources",
]
