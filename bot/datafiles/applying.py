"""Writing a load: organisations first, then what belongs to them, in the caller's transaction.

Codes resolve within the document's organisation. A load that would change what stored data
means (a plan of that code with another title, a campaign of another body, a campaign's
units) is refused unless `replace` is given: nothing is replaced silently.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.datafiles.calendar_documents import apply_calendar
from bot.datafiles.checks import (
    FAR_AFTER_END,
    entry_label,
    last_day_of,
    problem,
    title_name,
)
from bot.datafiles.reading import Loaded, LoadSet
from bot.datafiles.rules_documents import apply_rules
from bot.datafiles.schema import ALL, CampaignBody, PlanBody, ResultsBody, TaskEntry
from bot.datafiles.scope import LoadRejected, LoadReport, Resolver
from storage.campaigns import (
    AwardSpec,
    CampaignSpec,
    DeadlineSpec,
    DocumentSpec,
    TitleSpec,
    campaign_by_code,
    campaign_unit_ids,
    upsert_campaign,
)
from storage.models import DueForm, Target
from storage.nominees import active_awards
from storage.organizations import all_organizations
from storage.plans import PlanSpec, TaskSpec, plan_by_code, upsert_plan
from storage.results import ResultItemSpec, record_published, upsert_result


class _Applier(Resolver):
    """Builds each document's storage spec; the plan, campaign and results of a load."""

    async def plan(self, loaded: Loaded[PlanBody]) -> PlanSpec | None:
        plan, file = loaded.body, loaded.file
        entry = f"plan ({plan.key})"
        org = await self.organization(file, entry, loaded.organization)
        if org is None:
            return None
        scope = await self.scope(org)
        stored = await plan_by_code(self.session, org.id, plan.key)
        if stored is not None and stored.title != plan.title and not self.replace:
            self.error(
                file,
                entry,
                "code",
                "plan_identity",
                code=plan.key,
                stored=stored.title,
                new=plan.title,
            )
        tasks = []
        for i, t in enumerate(plan.tasks):
            task_entry = f"{entry}, " + entry_label("tasks", loaded.kept.at("tasks", i), t.no)
            unit_ids = self.resolve(scope, t.units, file, task_entry, "units")
            lead = self.resolve(scope, [t.lead] if t.lead else [], file, task_entry, "lead")
            due, form = _task_due(t)
            when = due or date(plan.year, 12, 31)
            self.warn_districts(scope, unit_ids, when, file, task_entry, "units")
            tasks.append(
                TaskSpec(
                    no=t.no,
                    quarter=None if t.repeat else (t.quarter or (_quarter(due) if due else None)),
                    content=t.content,
                    due=due,
                    due_form=form,
                    all_units=ALL in t.units,
                    unit_ids=frozenset(unit_ids),
                    lead_unit_id=next(iter(lead), None),
                    repeat=t.repeat,
                    repeat_day=0 if t.day == "last" else t.day,  # type: ignore[arg-type]
                    repeat_month=t.month,
                )
            )
        return PlanSpec(org.id, plan.key, plan.year, plan.title, tuple(tasks))

    async def campaign(self, loaded: Loaded[CampaignBody]) -> CampaignSpec | None:
        c, file = loaded.body, loaded.file
        entry = f"campaign ({c.code})"
        org = await self.organization(file, entry, loaded.organization)
        if org is None:
            return None
        scope = await self.scope(org)
        unit_ids = (
            None
            if c.units == ALL
            else frozenset(self.resolve(scope, c.units, file, entry, "units"))
        )
        stored = await campaign_by_code(self.session, c.code)
        if stored is not None and not self.replace:  # a units list cut by its errors: not compared
            if stored.organization_id != org.id:
                other = next(
                    o
                    for o in await all_organizations(self.session)
                    if o.id == stored.organization_id
                )
                self.error(
                    file, entry, "code", "campaign_other_org", stored=other.name, new=org.name
                )
            elif not loaded.kept.units_cut:
                current = await campaign_unit_ids(self.session, stored)
                if current != unit_ids:
                    self.error(
                        file,
                        entry,
                        "units",
                        "campaign_units_changed",
                        before=_units_text(current),
                        after=_units_text(unit_ids),
                    )
        self.warn_districts(scope, unit_ids or (), c.end, file, entry, "units")
        for name in ("registration_deadline", "dossier_deadline"):
            value = getattr(c, name)
            if value is not None and value > c.end + FAR_AFTER_END:
                self.warn(file, entry, name, "deadline_far", end=c.end)
        titles = tuple(
            TitleSpec(
                target=Target(target),
                name=title_name(t),
                short=None if isinstance(t, str) else t.short,
            )
            for target in ("tap_the", "ca_nhan")
            for t in getattr(c.titles, target)
        )
        awards = []
        for i, a in enumerate(c.awards):
            award_entry = f"{entry}, " + entry_label("awards", loaded.kept.at("awards", i), a.code)
            overrides: dict[str, int] = {}
            for code, n in a.quota_overrides.items():
                for unit_id in sorted(
                    self.resolve(scope, [code], file, award_entry, "quota_overrides")
                ):
                    overrides[str(unit_id)] = n
            awards.append(
                AwardSpec(
                    a.code,
                    a.name,
                    a.target,
                    a.quota,
                    a.quota_per_unit,
                    overrides,
                    list(a.documents) if a.documents is not None else None,
                    a.decided_by,
                    a.vote.threshold if a.vote else None,
                    a.vote.of if a.vote else None,
                )
            )
        deadlines = []
        for i, d in enumerate(c.deadlines):
            at = loaded.kept.at("deadlines", i)
            deadline_entry = f"{entry}, " + entry_label("deadlines", at, d.code)
            named = (
                sorted(self.resolve(scope, d.units, file, deadline_entry, "units"))
                if isinstance(d.units, list)
                else []
            )
            due, form = _deadline_due(d.due, d.due_before)
            if due is not None and due > c.end + FAR_AFTER_END:
                self.warn(file, deadline_entry, "due", "deadline_far", end=c.end)
            deadlines.append(
                DeadlineSpec(
                    code=d.code,
                    title=d.title,
                    due=due,
                    due_form=form,
                    after=d.after,
                    days=d.days,
                    working_days=d.working_days,
                    who=d.who,
                    all_units=not isinstance(d.units, list),
                    unit_ids=named,
                    reminders=sorted(d.reminders, reverse=True)
                    if d.reminders is not None
                    else None,
                )
            )
        forms = {k: v for k, v in c.registration_forms.model_dump().items() if v}
        return CampaignSpec(
            organization_id=org.id,
            code=c.code,
            title=c.title,
            theme=c.theme,
            kind=c.kind,
            start=c.start,
            end=c.end,
            unit_ids=unit_ids,
            launch_at=c.launch_at.replace(tzinfo=self.tz) if c.launch_at else None,
            registration_deadline=c.registration_deadline,
            dossier_deadline=c.dossier_deadline,
            reminders=tuple(sorted(c.reminders, reverse=True)),
            titles=titles,
            awards=tuple(awards),
            documents=tuple(
                DocumentSpec(
                    d.code,
                    d.name,
                    d.per,
                    d.optional,
                    list(d.formats) if d.formats else None,
                    d.note,
                )
                for d in c.documents
            ),
            deadlines=tuple(deadlines),
            review_within_working_days=c.review_within_working_days,
            registration_forms=forms,
            council_quorum=c.council.quorum if c.council else None,
        )

    async def results(self, loaded: Loaded[ResultsBody]) -> None:
        body, file = loaded.body, loaded.file
        entry = f"results ({body.campaign})"
        campaign = await campaign_by_code(self.session, body.campaign)
        if campaign is None:
            if body.campaign not in self.unresolved.campaigns:
                self.error(file, entry, "campaign", "unknown_campaign", code=body.campaign)
            return
        org = next(
            o for o in await all_organizations(self.session) if o.id == campaign.organization_id
        )
        if loaded.organization is not None and loaded.organization != org.code:
            self.error(file, entry, "organization", "results_other_org", code=org.code)
            return
        scope = await self.scope(org)
        awards = {a.code: a.id for a in await active_awards(self.session, campaign.id)}
        items = []
        for i, item in enumerate(body.items):
            item_entry = f"{entry}, " + entry_label(
                "items", loaded.kept.at("items", i), item.nominee
            )
            if item.unit not in scope.units and item.unit not in self.unresolved.units:
                self.error(file, item_entry, "unit", "unknown_unit", code=item.unit)
            left_out = {(body.campaign, item.award), (body.campaign, None)} & self.unresolved.awards
            if item.award not in awards and not left_out:
                known = ", ".join(sorted(awards))
                self.error(file, item_entry, "award", "unknown_award", code=item.award, known=known)
            if item.unit in scope.units and item.award in awards:
                items.append(
                    ResultItemSpec(scope.units[item.unit], item.nominee, awards[item.award])
                )
        if self.errors:
            return
        outcome = await upsert_result(
            self.session,
            campaign.id,
            body.decision,
            body.publish_at.replace(tzinfo=self.tz),
            items,
            body.decided_by,
        )
        if outcome != "unchanged":  # in the history of the nominees it names
            await record_published(self.session, campaign.id, body.decision, items)
        self.report.results.record(outcome, body.campaign)


def _quarter(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _task_due(task: TaskEntry) -> tuple[date | None, DueForm]:
    return _deadline_due(task.due, task.due_before)


def _deadline_due(due: date | str | None, due_before: date | None) -> tuple[date | None, DueForm]:
    """The last day a step may be done, and how the document wrote it."""
    if due_before is not None:
        return due_before - timedelta(days=1), DueForm.BEFORE
    if isinstance(due, str):
        return last_day_of(due), DueForm.MONTH
    return due, DueForm.DAY


def _units_text(ids: frozenset[int] | None) -> str:
    return problem("units_all") if ids is None else problem("units_count", count=len(ids))


async def apply(
    session: AsyncSession,
    load: LoadSet,
    tz: ZoneInfo,
    now: datetime,
    *,
    replace: bool = False,
    check_only: bool = False,
) -> LoadReport:
    """Write every document; the caller's transaction makes it all or nothing. With
    `check_only` (a load with errors, rolled back by the caller) the documents, which may be
    parts of documents with errors, are checked against the database: the plans are not
    written, the campaigns that are right are, for the results to be checked against."""
    applier = _Applier(session, tz, now, replace)
    applier.unresolved = load.unresolved
    report = applier.report
    for calendar in load.calendars:
        report.calendars.add(await apply_calendar(session, calendar.body, now))
    for units in load.units:
        await applier.units(units)
    plan_specs = [await applier.plan(p) for p in load.plans]
    campaign_specs, unchecked = [], set()
    for campaign in load.campaigns:
        before = len(applier.errors)
        campaign_specs.append(spec := await applier.campaign(campaign))
        if (
            spec is None
            or len(applier.errors) > before
            or campaign.body.code in load.unresolved.campaigns
        ):
            unchecked.add(campaign.body.code)
    # With errors nothing is written; the results are still checked against the campaigns
    # that are right, so that their errors show in the same run.
    if not applier.errors and not check_only:
        for plan_spec in plan_specs:
            if plan_spec is not None:
                outcome = await upsert_plan(session, plan_spec, replace=replace)
                report.plans.record("updated" if outcome == "replaced" else outcome, plan_spec.code)
    for campaign_spec in campaign_specs:
        if campaign_spec is not None and campaign_spec.code not in unchecked:
            report.campaigns.record(
                await upsert_campaign(session, campaign_spec, now), campaign_spec.code
            )
    for results in load.results:  # after the campaigns: a results file may name a new one
        if results.body.campaign not in unchecked:  # else: that campaign's errors say enough
            await applier.results(results)
    await apply_rules(applier, load.rules, now)
    if applier.errors:
        raise LoadRejected(applier.errors)
    return report
