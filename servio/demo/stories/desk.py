"""The desk that writes the stories: plans a ticket's life from its age and replays it."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from servio.demo import content
from servio.demo.stories.odds import (
    DAY,
    FINALS,
    HOLDS,
    HOUR,
    IMPACTS,
    MINUTE,
    RESOLUTIONS,
    SOURCES,
    URGENCIES,
    Weighted,
)
from servio.demo.stories.people import Directory, Person, ServiceInfo
from servio.demo.stories.plan import Plan, Story, cancel_reason
from servio.incidents.services import MAJOR_RESOLUTION_PREFIX


class Desk:
    """Plans tickets for one directory; deterministic for a given seed."""

    def __init__(
        self,
        directory: Directory,
        *,
        now: datetime,
        seed: int = 0,
        autoclose_days: int = 5,
        reopen_days: int = 7,
    ) -> None:
        self.d = directory
        self.now = now
        self.rng = random.Random(seed)  # noqa: S311 - generated data, not secrets
        self.autoclose = autoclose_days * DAY
        self.reopen = reopen_days * DAY
        self.orgs = Weighted({o: w for o, w in directory.org_weights.items() if w > 0})
        self.services = Weighted({s: s.weight for s in directory.services})
        self.agent_pool = [m for t in directory.teams for m in t.members]

    # random helpers
    def pick(self, seq):
        return seq[int(self.rng.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def wait(self, median: float, sigma: float = 1.0) -> float:
        return median * math.exp(self.rng.gauss(0.0, sigma))

    def fill(self, template: str) -> str:
        if "{" not in template:
            return template
        return template.format_map(_Slots(self.rng))

    # --- what a ticket is about ---
    def _describe(self, family: str, requester: Person) -> tuple[str, str]:
        title, detail = self.pick(content.INCIDENTS[family])
        slots = _Slots(self.rng)
        title = title.format_map(slots)
        detail = detail.format_map(slots)
        parts = [
            self.pick(content.OPENERS),
            detail,
            self.pick(content.TRIED),
            self.pick(content.IMPACTS).format_map(slots),
        ]
        body = " ".join(x for x in parts if x)
        return title[:200], f"{body}\n\n{self.pick(content.SIGNOFFS)},\n{requester.name}"

    def final_for(self, created: datetime) -> str:
        age = (self.now - created).total_seconds() / DAY
        for limit, weighted in FINALS:
            if age < limit:
                return weighted.pick(self.rng)
        return "closed"

    # --- one ticket ---
    def _base(self, kind: str, requester: Person | None, service: ServiceInfo | None):
        """A new ticket's fields as `ticket_create` sets them; returns it with its people."""
        rng, d = self.rng, self.d
        p = Plan()
        p.kind = kind
        service = service or self.services.pick(rng)
        creator = None
        if kind in ("incident", "request"):
            if requester is None:
                requester = self.pick(d.requesters_by_org[self.orgs.pick(rng)])
            source = SOURCES.pick(rng) if kind == "incident" else "portal"
            team = d.team_for(service, requester.org_id)
            if source in ("phone", "agent"):  # logged by the first line on the caller's behalf
                creator = self.pick(d.first_line.members)
        else:  # problems, changes and tasks are raised by staff, for the provider
            team = d.team_for(service, d.provider_org_id)
            requester = requester or self.pick(team.members)
            source = "agent"
        if kind == "incident":
            p.title, p.description = self._describe(service.family, requester)
        else:
            pool = {
                "request": content.REQUESTS,
                "problem": content.PROBLEMS,
                "change": content.CHANGES,
                "task": content.TASKS,
            }[kind]
            p.title = self.fill(self.pick(pool))[:200]
            detail = self.fill(self.pick(content.INCIDENTS[service.family])[1])
            p.description = f"{detail}\n\nRaised for {service.name}."
        p.requester_id = requester.id
        p.organization_id = requester.org_id
        p.service_id = service.id
        p.category_id = self.pick(service.categories) if service.categories else None
        p.impact = IMPACTS.pick(rng)
        p.urgency = URGENCIES.pick(rng)
        p.priority = d.matrix[(p.impact, p.urgency)]
        p.priority_overridden = False
        p.status = "new"
        p.hold_reason = p.resolution_code = p.resolution_notes = ""
        p.source = source
        p.is_major = False
        p.first_response_at = p.resolved_at = p.closed_at = None
        p.reassignment_count = p.reopen_count = 0
        p.team_id = p.assignee_id = None
        if creator is not None:
            p.team_id, p.assignee_id = d.first_line.id, creator.id
        elif kind not in ("incident", "request"):
            creator = requester
            p.team_id = team.id
        return p, requester, team, creator

    def plan(
        self,
        created: datetime,
        *,
        kind: str = "incident",
        final: str | None = None,
        hold_reason: str | None = None,
        requester: Person | None = None,
        assignee: Person | None = None,
        service: ServiceInfo | None = None,
    ) -> Plan:
        """One ticket created at `created` whose story ends in `final` (by age if not given)."""
        p, requester, team, creator = self._base(kind, requester, service)
        final = final or self.final_for(created)
        steps = self._steps(p, final, team, requester, creator, assignee, hold_reason)
        self._run(p, requester, created, creator or requester, steps, final)
        return p

    def _steps(self, p, final, team, requester, creator, assignee, hold_reason) -> list:
        """(gap seconds, operation, args) leading to `final`; times are fitted later."""
        d, rng = self.d, self.rng
        w = self.wait
        steps: list = []
        first_line = d.first_line
        triager = self.pick(first_line.members)
        # Who ends up working it: the first line keeps about half; the rest goes to the owner.
        if assignee is not None:
            work_team = next(
                (t for t in d.teams if assignee in t.members and d.serves(t, p.organization_id)),
                team,
            )
            worker = assignee
        elif p.assignee_id is not None:
            work_team, worker = first_line, creator
        elif team is first_line or self.chance(0.4):
            work_team, worker = first_line, triager
        else:
            work_team, worker = team, self.pick(team.members)
        if final == "new":
            roll = rng.random()
            if roll < 0.3 and p.team_id is None:
                steps.append((w(20 * MINUTE), "assign", (triager, work_team, None)))
            elif roll < 0.5 and p.team_id is None:
                steps.append((w(20 * MINUTE), "assign", (triager, work_team, worker)))
            if self.chance(0.15):
                steps.append((w(2 * HOUR), "reply", (requester,)))
            return steps
        # Triage and assignment.
        if p.assignee_id is None or worker.id != p.assignee_id:
            if work_team is first_line or work_team.id == p.team_id:
                steps.append((w(20 * MINUTE), "assign", (triager, work_team, worker)))
            else:
                steps.append((w(20 * MINUTE), "assign", (triager, work_team, None)))
                steps.append((w(HOUR), "assign", (worker, work_team, worker)))
        if self.chance(0.08):
            impact, urgency = IMPACTS.pick(rng), URGENCIES.pick(rng)
            steps.append((w(10 * MINUTE), "levels", (worker, impact, urgency)))
        if final == "cancelled" and self.chance(0.5):
            if self.chance(0.6):
                reply = self.pick(content.CANCEL_REPLIES)
                steps.append((w(HOUR), "reply", (requester, reply)))
                steps.append((w(MINUTE, 0.5), "move", (requester, "cancel", {"reason": reply})))
            else:
                steps.append((w(HOUR), "move", (worker, "cancel", cancel_reason(steps))))
            return steps
        steps.append((w(30 * MINUTE, 1.2), "move", (worker, "start", {})))
        if self.chance(0.85):
            steps.append((w(10 * MINUTE), "answer", (worker,)))
        if self.chance(0.4):
            steps.append((w(2 * HOUR, 1.2), "reply", (requester,)))
        if self.chance(0.35):
            steps.append((w(HOUR), "note", (worker,)))
        holding = final == "on_hold"
        if holding or self.chance(0.18):
            reason = hold_reason if holding and hold_reason else HOLDS.pick(rng)
            steps.append((w(2 * HOUR), "hold", (worker, reason)))
            if holding:
                return steps
            if reason == "awaiting_requester":
                steps.append((w(20 * HOUR), "reply", (requester,)))  # resumes it
            else:
                median = 3 * DAY if reason == "awaiting_vendor" else 4 * DAY
                steps.append((w(median, 0.7), "move", (worker, "resume", {})))
        if self.chance(0.1):
            others = [
                t
                for t in d.teams
                if t is not work_team and t.members and d.serves(t, p.organization_id)
            ]
            if others:
                new_team = self.pick(others)
                worker = self.pick(new_team.members)
                steps.append(
                    (w(4 * HOUR), "assign", (self.pick(work_team.members), new_team, worker))
                )
                if self.chance(0.5):
                    steps.append((w(HOUR), "note", (worker,)))
        if final == "in_progress":
            return steps
        if final == "cancelled":
            steps.append((w(DAY), "move", (worker, "cancel", cancel_reason(steps))))
            return steps
        steps.append((w(6 * HOUR, 1.6), "resolve", (worker,)))
        if final in ("resolved", "closed") and self.chance(0.04):
            window = 0.8 * min(self.autoclose, self.reopen)
            steps.append((min(w(DAY, 0.7), window), "reply", (requester,)))  # reopens it
            steps.append((w(4 * HOUR), "answer", (worker,)))
            steps.append((w(8 * HOUR), "resolve", (worker,)))
        if final == "closed":
            if self.chance(0.25):
                gap = min(w(4 * HOUR), 0.8 * self.autoclose)
                steps.append((gap, "move", (requester, "close", {})))
            else:
                steps.append((self.autoclose + rng.random() * 900, "autoclose", ()))
        return steps

    def _run(self, p, requester, created, creator, steps, final) -> None:
        """Fit the steps between creation and now, then replay them on the plan."""
        available = max(1.0, (self.now - created).total_seconds() - 120.0)
        gaps = [max(1.0, s[0]) for s in steps]
        total = sum(gaps)
        resolves = [i for i, step in enumerate(steps) if step[1] == "resolve"]
        if final == "resolved" and resolves:
            # Still resolved: the last resolution falls inside the auto-close window. Only the
            # work before the first resolution stretches, so a reopening reply stays in time.
            first, last = resolves[0], resolves[-1]
            before = sum(gaps[: first + 1])
            between = sum(gaps[first + 1 : last + 1])
            after = total - before - between
            low = max(1.0, available - self.autoclose + 3600)
            high = max(1.0, available - after)
            want = low + (high - low) * self.rng.random() if high > low else high
            factor = max(want - between, 1.0) / before
            gaps = [g * factor for g in gaps[: first + 1]] + gaps[first + 1 :]
        elif total > available:
            if steps and steps[-1][1] == "autoclose" and available > gaps[-1] + 60:
                head = available - gaps[-1] - 30
                factor = head / (total - gaps[-1])
                gaps = [g * factor for g in gaps[:-1]] + [gaps[-1]]
            else:
                if steps and steps[-1][1] == "autoclose":  # too young for the auto-close job
                    steps[-1] = (0, "move", (requester, "close", {}))
                    gaps[-1] = self.wait(4 * HOUR)
                    total = sum(gaps)
                factor = available * (0.5 + 0.45 * self.rng.random()) / total
                gaps = [g * factor for g in gaps]
        total = sum(gaps)
        if total > available:  # e.g. a young ticket whose reopening took longer than its age
            factor = available * (0.5 + 0.45 * self.rng.random()) / total
            gaps = [g * factor for g in gaps]
        story = Story(p, requester, self.reopen)
        t = created
        story.created(t, creator)
        tick = timedelta(milliseconds=1)
        for gap, (_, op, args) in zip(gaps, steps, strict=True):
            # Each step follows the last event (some steps write two, seconds apart).
            t = max(t + timedelta(seconds=gap), p.updated_at + tick)
            getattr(self, f"_op_{op}")(story, t, *args)
        if p.status == "resolved":  # the auto-close job would have closed it by now
            due = p.resolved_at + timedelta(seconds=self.autoclose + 300)
            if due < self.now and due > p.updated_at:
                story.transition(due, None, "close")

    # --- operations (names used in _steps) ---
    def _op_assign(self, story, t, actor, team, assignee):
        story.assign(t, actor, team, assignee)

    def _op_levels(self, story, t, actor, impact, urgency):
        story.set_levels(t, actor, impact, urgency, self.d.matrix)

    def _op_move(self, story, t, actor, name, values):
        story.transition(t, actor, name, **values)

    def _op_answer(self, story, t, agent):
        text = self.pick(content.AGENT_REPLIES).format(first=story.requester.first)
        story.comment(t, agent, text)

    def _op_reply(self, story, t, requester, text=None):
        text = text or self.pick(content.REQUESTER_REPLIES)
        story.comment(t, requester, text, agent=requester.staff)

    def _op_note(self, story, t, agent):
        story.comment(t, agent, self.fill(self.pick(content.INTERNAL_NOTES)), internal=True)

    def _op_hold(self, story, t, agent, reason):
        text = content.HOLD_QUESTIONS[reason].format(first=story.requester.first)
        story.comment(t, agent, text)
        story.transition(t + timedelta(seconds=30), agent, "hold", hold_reason=reason)

    def _op_resolve(self, story, t, agent):
        code = RESOLUTIONS.pick(self.rng)
        if self.chance(0.7):
            story.comment(t, agent, self.pick(content.RESOLVED_REPLIES))
            t = t + timedelta(seconds=20)
        notes = self.pick(content.RESOLUTIONS[code])
        story.transition(t, agent, "resolve", resolution_code=code, resolution_notes=notes)

    def _op_autoclose(self, story, t):
        """The auto-close job: never before the window since the resolution has passed."""
        due = story.plan.resolved_at + timedelta(seconds=self.autoclose + 60)
        story.transition(max(t, due), None, "close")

    # --- major incidents ---
    def plan_major(
        self, created: datetime, children_times: list[datetime], *, final: str | None = None
    ) -> list[Plan]:
        """A major incident logged by the first line, and incidents grouped under it.

        Resolving the parent resolves its open children with the parent's resolution (the
        cascade of `incidents.services`), as the system; the auto-close job closes them later.
        """
        d = self.d
        title, family = self.pick(content.MAJOR_INCIDENTS)
        service = next((s for s in d.services if s.family == family), self.pick(d.services))
        lead_team = service.owner if service.owner and service.owner.members else d.first_line
        creator = self.pick(d.first_line.members)
        owner = lead_team.lead or self.pick(lead_team.members)
        parent = Plan()
        parent.kind = "incident"
        parent.title = self.fill(title)
        parent.description = (
            f"Major incident: {parent.title}. Many users are affected; updates every 30 "
            "minutes. Please link related incidents to this one instead of logging new ones."
        )
        parent.requester_id, parent.organization_id = creator.id, creator.org_id
        parent.service_id = service.id
        parent.category_id = self.pick(service.categories) if service.categories else None
        parent.impact = parent.urgency = 1
        parent.priority = d.matrix[(1, 1)]
        parent.priority_overridden = False
        parent.status = "new"
        parent.hold_reason = parent.resolution_code = parent.resolution_notes = ""
        parent.source = "phone"
        parent.is_major = True
        parent.first_response_at = parent.resolved_at = parent.closed_at = None
        parent.reassignment_count = parent.reopen_count = 0
        parent.team_id, parent.assignee_id = lead_team.id, owner.id
        final = final or self.final_for(created)
        if final in ("new", "on_hold", "cancelled"):
            final = "in_progress"
        story = Story(parent, creator)
        story.created(created, creator)
        available = (self.now - created).total_seconds()
        t = created + timedelta(seconds=min(available * 0.1, self.wait(5 * MINUTE, 0.5)))
        story.transition(t, owner, "start")
        duration = self.wait(5 * HOUR, 0.6)
        if final == "in_progress":
            duration = available * 2  # still going on
        elif final == "resolved":
            duration = min(duration, available * 0.9)
            duration = max(duration, available - self.autoclose + 3600)
        else:
            duration = min(duration, max(60.0, available - self.autoclose - 1200))
        started = (t - created).total_seconds()
        resolve_at = created + timedelta(seconds=max(duration, started + 120))
        updates = max(1, min(6, int(duration / (2 * HOUR))))
        span = max(0.0, (min(resolve_at, self.now) - t).total_seconds()) * 0.8
        for i in range(updates):
            at = t + timedelta(seconds=1 + (i + 1) * span / (updates + 1))
            story.comment(
                at,
                owner,
                f"Update {i + 1}: investigation continues; next update in 30 minutes.",
                internal=False,
            )
        children: list[Plan] = []
        for when in children_times:
            if when >= resolve_at or when >= self.now:
                break
            child = self._major_child(when, parent, service, lead_team, resolve_at)
            children.append(child)
        if final in ("resolved", "closed") and resolve_at < self.now:
            code = "resolved_by_change" if self.chance(0.3) else "fixed"
            notes = self.pick(content.RESOLUTIONS[code])
            story.transition(
                resolve_at, owner, "resolve", resolution_code=code, resolution_notes=notes
            )
            for k, child in enumerate(children):
                if child.status in ("new", "in_progress", "on_hold"):
                    cs = Story(child, _Nobody)
                    cs.transition(
                        resolve_at + timedelta(milliseconds=k + 1),
                        None,
                        "resolve",
                        auto=True,
                        resolution_code=code,
                        resolution_notes=f"{MAJOR_RESOLUTION_PREFIX}{notes}",
                    )
            close_at = resolve_at + timedelta(seconds=self.autoclose + self.rng.random() * 900)
            if final == "closed" and close_at < self.now:
                for plan in (parent, *children):
                    if plan.status == "resolved":
                        Story(plan, _Nobody).transition(close_at, None, "close")
                        close_at += timedelta(milliseconds=3)
        return [parent, *children]

    def _major_child(self, when, parent, service, team, resolve_at) -> Plan:
        """An incident logged during the outage, grouped under the major incident."""
        child, requester, _, creator = self._base("incident", None, service)
        story = Story(child, requester)
        story.created(when, creator or requester)
        span = min(self.wait(10 * MINUTE, 0.5), 0.5 * _secs(min(resolve_at, self.now), when))
        t = when + timedelta(seconds=span)
        agent = self.pick(self.d.first_line.members)
        if not self.d.serves(team, child.organization_id):
            team = self.d.first_line  # the lead team does not serve this customer
        if child.team_id != team.id:
            story.assign(t, agent, team, None)
        story.set_parent(t + timedelta(milliseconds=5), agent, parent)
        return child


def _secs(a: datetime, b: datetime) -> float:
    return max(1.0, (a - b).total_seconds())


class _NobodyType:
    id = None
    email = ""
    name = "system"
    first = "there"


_Nobody = _NobodyType()


class _Slots(dict):
    """Template slots drawn at random on first use (so one title and its detail agree)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        values = content.SLOTS.get(key, [key])
        value = values[int(self.rng.random() * len(values))]
        self[key] = value
        return value
