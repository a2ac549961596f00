"""`python -m harambee_monitoring seed-demo`: a month of synthetic programme activity in the demo counties.

Why a seed of monitoring's own read model, not events pushed through the broker: synthetic events would have
to claim intake's, assessment's and interventions' sources, and every consumer would take them as genuine —
audit would log referrals nobody made, interventions would learn of cases that do not exist, and event
signing would rightly refuse them. Seeding here goes through the same recording code as the consumer
(`consumers.record`, fed the catalogue's own models) and touches no other service's records. It runs once
per tenant (a tenant that already has facts is left alone), so `make run` keeps what it has seen.

The month: referrals received over the last 30 days, taken along the lifecycle at realistic rates and
delays (about half signposted, a few escalated), with education over-referring young men so that the
disparity view has something to flag; and older cases whose reviews, closure, follow-ups and reassessments
fall in this month, so that plans, exits and change are not empty. Plus census-style population figures.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from harambee_common.catalogue import EventData
from harambee_common.catalogue import assessment as a
from harambee_common.catalogue import intake as i
from harambee_common.catalogue import interventions as iv
from harambee_common.db import create_db_engine, session_factory, unit_of_work
from harambee_monitoring import consumers
from harambee_monitoring.population import repository as population

ACTOR = "seed-demo"
# tenant: (referrals this month, older cases active this month, random seed, population)
TENANTS = {"ke-mombasa": (150, 30, 11, 1_208_000), "ke-nairobi": (90, 20, 12, 4_397_000)}
SOURCES = ["education", "health", "social_services", "religious_leader", "family_or_friend", "community", "cso",
           "self", "police_diversion"]
# Shares of the population by age band and gender (the demo's census), for the bands the programme sees.
SHARES = {"under_15": 0.38, "15_17": 0.07, "18_24": 0.14, "25_34": 0.18, "35_plus": 0.23}


def seed_from_env() -> None:
    """The verb: seeds the demo tenants in the database of DATABASE_URL."""
    engine = create_db_engine(os.environ["DATABASE_URL"], pool_size=1)
    try:
        for tenant, seeded in seed(sessions=session_factory(engine), now=datetime.now(UTC)).items():
            print(f"{tenant}: {seeded}")
    finally:
        engine.dispose()


def seed(*, sessions, now: datetime, tenants: dict[str, tuple[int, int, int, int]] | None = None  # type: ignore[no-untyped-def]
         ) -> dict[str, str]:
    """Seeds each demo tenant that has no facts yet; says what it did for each."""
    done = {}
    for tenant, (month, older, seed_value, people) in (tenants or TENANTS).items():
        with unit_of_work(sessions, tenant) as uow:
            if uow.session.scalar(sa.text("SELECT EXISTS (SELECT 1 FROM referral_facts)")):
                done[tenant] = "already seeded"
                continue
            chance = random.Random(seed_value)
            events = [*_this_month(chance, now, month), *_older(chance, now, older)]
            for data in events:
                consumers.record(uow, data)
            _population(uow, tenant, people)
            done[tenant] = f"{len(events)} events of {month + older} referrals"
    return done


def _population(uow, tenant: str, total: int) -> None:  # type: ignore[no-untyped-def]
    by_group = {f"{band}:{gender}": round(total * share / 2) for band, share in SHARES.items()
                for gender in ("female", "male")}
    population.replace_figures(session=uow.session, tenant=tenant, dimension="age_band_gender", groups=by_group,
                               source="Demo census (synthetic)", actor=ACTOR, at=datetime.now(UTC))
    for dimension, key in (("age_band", 0), ("gender", 1)):
        summed: dict[str, int] = {}
        for group, n in by_group.items():
            part = group.split(":")[key]
            summed[part] = summed.get(part, 0) + n
        population.replace_figures(session=uow.session, tenant=tenant, dimension=dimension, groups=summed,
                                   source="Demo census (synthetic)", actor=ACTOR, at=datetime.now(UTC))


def _person(chance: random.Random) -> dict:
    source = chance.choice(SOURCES)
    if source == "education" and chance.random() < 0.6:  # the bias the disparity view is there to catch
        band, gender = "18_24", "male"
    else:
        band = chance.choices(list(SHARES), weights=[0.2, 0.3, 0.25, 0.15, 0.1])[0]
        gender = chance.choice(["female", "male", "male"])
    kinds = chance.choices([["behaviour"], ["behaviour", "context"], ["context"], ["belief"]],
                           weights=[5, 3, 2, 1])[0]
    codes = {"behaviour": "sudden_withdrawal", "context": "grievance_or_injustice", "belief":
             "religious_or_political_views"}
    return {"source_type": source, "age_band": band, "gender": gender, "is_minor": band in ("under_15", "15_17"),
            "concern_types": sorted(kinds), "indicators": sorted(codes[k] for k in kinds),
            "repeat_referral": chance.random() < 0.08}


def _journey(chance: random.Random, received: datetime, now: datetime) -> Iterator[EventData]:
    """One referral's events, each only if it has happened by `now`."""
    ids = {"referral_id": uuid.uuid4(), "subject_ref": uuid.uuid4()}
    case = {"case_id": uuid.uuid4(), "subject_ref": ids["subject_ref"]}
    yield i.ReferralReceived(**ids, organisation=None, received_at=received, **_person(chance))
    at = received + timedelta(days=chance.uniform(0.2, 6))
    if at > now:
        return
    outcome = chance.choices(["signpost", "no_further_action", "escalate", "accept"], weights=[45, 15, 3, 37])[0]
    yield i.ReferralScreened(**ids, outcome=outcome, screened_at=at, time_to_screen_seconds=int((at - received)
                                                                                               .total_seconds()))
    if outcome != "accept":
        return
    yield a.CaseOpened(**case, referral_id=ids["referral_id"], opened_at=at)
    assessment = uuid.uuid4()
    steps = [(chance.uniform(5, 20), "assessed"), (chance.uniform(5, 15), "decided"), (chance.uniform(2, 10),
                                                                                         "consented"),
             (chance.uniform(3, 12), "session")]
    for delay, step in steps:
        at += timedelta(days=delay)
        if at > now:
            return
        if step == "assessed":
            yield a.AssessmentApproved(assessment_id=assessment, **case, framework_id=uuid.uuid4(), framework_version=1,
                                       needs=["education"], supersedes=None, items_compared=0, items_improved=0,
                                       items_worsened=0, approved_at=at)
        elif step == "decided":
            decision = chance.choices(["adopt", "decline", "signpost"], weights=[70, 15, 15])[0]
            common = {**case, "decision_id": uuid.uuid4(), "meeting_id": uuid.uuid4(), "assessment_id": assessment,
                      "decided_at": at, "dissent_count": 0}
            if decision == "adopt":
                yield a.CaseAdopted(**common, next_review_on=(at + timedelta(days=90)).date())
            elif decision == "decline":
                yield a.CaseDeclined(**common)
                return
            else:
                yield a.CaseSignposted(**common, signposted_to="youth_services")
                return
        elif step == "consented":
            yield a.CaseConsented(**case, consent_id=uuid.uuid4(), given_by="person", needs=["education"],
                                  assessment_id=assessment, consented_at=at)
            yield iv.PlanVersioned(plan_id=uuid.uuid4(), **case, version=1, needs=["education"], items=2,
                                   intervention_types=sorted(chance.sample(
                                       ["mentoring", "psychosocial_support", "vocational_training", "sports_and_arts",
                                        "family_support"], 2)), versioned_at=at)
        else:
            yield iv.SessionRecorded(session_id=uuid.uuid4(), task_id=uuid.uuid4(), **case, provider=uuid.uuid4(),
                                     intervention_type="mentoring", held_on=at.date(), duration_minutes=60,
                                     attended=True, recorded_at=at)


def _this_month(chance: random.Random, now: datetime, count: int) -> Iterator[EventData]:
    for _ in range(count):
        yield from _journey(chance, now - timedelta(days=chance.uniform(0, 30)), now)


def _older(chance: random.Random, now: datetime, count: int) -> Iterator[EventData]:
    """Cases referred months ago, supported since, whose reassessment, exit or follow-up falls in this month."""
    for _ in range(count):
        received = now - timedelta(days=chance.uniform(120, 420))
        events = list(_journey(chance, received, received + timedelta(days=90)))
        yield from events
        if not any(isinstance(e, iv.SessionRecorded) for e in events):
            continue
        case = {"case_id": events[2].case_id, "subject_ref": events[0].subject_ref}
        assessment = next(e.assessment_id for e in events if isinstance(e, a.AssessmentApproved))
        at = now - timedelta(days=chance.uniform(1, 29))
        # Seven concerns and five strengths rated twice: concerns down and strengths up are what improve.
        down, up = chance.randint(0, 6), chance.randint(0, 4)
        concerns_up, strengths_down = chance.randint(0, 7 - down), chance.randint(0, 5 - up)
        yield a.AssessmentApproved(assessment_id=uuid.uuid4(), **case, framework_id=uuid.uuid4(), framework_version=1,
                                   needs=["education"], supersedes=assessment, items_compared=12,
                                   items_improved=down + up, items_worsened=concerns_up + strengths_down,
                                   concerns_compared=7, concerns_down=down, concerns_up=concerns_up,
                                   strengths_compared=5, strengths_up=up, strengths_down=strengths_down,
                                   approved_at=at)
        if chance.random() < 0.6:
            closed = at - timedelta(days=chance.uniform(0, 1)) if received > now - timedelta(days=240) else \
                now - timedelta(days=chance.uniform(180, 200))
            reason = chance.choices(["vulnerability_removed", "substantially_reduced", "no_engagement", "relocation"],
                                    weights=[40, 35, 15, 10])[0]
            yield iv.CaseClosed(**case, exit_reason=reason, follow_ups_due=[], closed_at=closed)
            if closed < now - timedelta(days=175):
                yield iv.FollowUpRecorded(follow_up_id=uuid.uuid4(), **case, months_after_exit=6,
                                          outcome=chance.choice(["doing_well", "doing_well", "some_concerns",
                                                                 "not_reached"]),
                                          in_education_or_work=True, re_referred=False,
                                          recorded_at=now - timedelta(days=chance.uniform(0, 29)))
