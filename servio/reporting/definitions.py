"""What each dashboard figure counts, in one sentence: shown beside the figure on the page and
written out in docs/reporting.md (keep the two in step)."""

from __future__ import annotations

DEFINITIONS = {
    "backlog": "Incidents and requests open now (not resolved, closed or cancelled).",
    "mtta": "Logged in the period to the first public reply by staff; median and 90th "
    "percentile over the tickets answered.",
    "mttr": "Logged to last resolution, over the tickets resolved in the period and still "
    "resolved or closed.",
    "csat": "Average satisfaction rating (1 to 5) of the answers given in the period.",
    "fcr": "Resolved in the period, never reassigned or reopened, with at most one public "
    "staff reply.",
    "sla": "Requester SLA clocks met, of those that ended in the period plus those still open "
    "that passed their target in it.",
    "reassign": "Resolved in the period after being moved to another team or person at least once.",
    "handled": "Tickets the agent is assigned that were resolved in the period and are still "
    "resolved or closed.",
    "agent_mttr": "Median time from logged to resolved of the tickets handled.",
    "reopen": "Share of the tickets handled that had been reopened at least once.",
    "agent_csat": "Satisfaction answers given in the period about tickets now assigned to the "
    "agent.",
}
