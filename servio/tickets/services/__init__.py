"""Every write to a ticket: create, update, assign, transition, comment, attach, link, watch.

Each service checks the policy, validates, writes the change and its audit event in one
transaction, and publishes a domain event through the outbox. The package is split by topic;
import from `servio.tickets.services`.
"""

from servio.tickets.services.common import (
    MAX_TEXT,
    MAX_TITLE,
    SOURCES,
    TRACKED_FIELDS,
    priority_for,
)
from servio.tickets.services.conversation import attachment_add, comment_add
from servio.tickets.services.records import ticket_assign, ticket_create, ticket_update
from servio.tickets.services.relations import (
    link_add,
    link_remove,
    ticket_set_parent,
    watcher_add,
    watcher_remove,
)
from servio.tickets.services.transitions import (
    allowed_transitions,
    ticket_transition,
    transition_as_system,
)

__all__ = [
    "MAX_TEXT",
    "MAX_TITLE",
    "SOURCES",
    "TRACKED_FIELDS",
    "allowed_transitions",
    "attachment_add",
    "comment_add",
    "link_add",
    "link_remove",
    "priority_for",
    "ticket_assign",
    "ticket_create",
    "ticket_set_parent",
    "ticket_transition",
    "ticket_update",
    "transition_as_system",
    "watcher_add",
    "watcher_remove",
]
