"""A realistic mix of the platform's work across 47 county tenants and the national tenant, at a steady rate.

    python benchmarks/mixed_load.py [--duration 600] [--rate 10] [--counties 47] [--mix submit=30,...]
    python benchmarks/mixed_load.py --url http://127.0.0.1:8000 --credentials .run/demo-credentials.json

Without --url it starts the whole embedded platform itself (an ephemeral stack in a temporary directory);
with --url it loads a running `make run` stack (loopback only) as its platform administrator. Either way it
first provisions, through the gateway's admin API, each county tenant with its partner CSO, intervention
provider, staff clients (intake officer, case manager, assessor, panel chair, compliance officer) and the
agreements between them and with the national programme (aggregates under suppression), and takes a few
cases per county the real way to a plan with tasks, so that providers have sessions to record.

The load is open-loop: operations are launched on a fixed schedule (rate per second), whatever the
platform's answers take, and each one's latency counts from when it was due, so a slow platform shows up as
latency and not as a politely lower rate. At the end it prints, per operation: count, p50, p99 and errors by
status; and per platform process: RSS at the start of the load and at its end (the end/start ratio is the
figure: flat is the goal) and the CPU seconds the load cost it. Every call uses a real client-credentials
token from the gateway's token endpoint, refreshed before it expires.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psutil

NATIONAL = "ke-national"
# Kenya's 47 counties, most populous first (the load's county weights follow this order).
COUNTIES: tuple[str, ...] = (
    "nairobi", "kiambu", "nakuru", "kakamega", "bungoma", "meru", "kilifi", "machakos", "kisii", "mombasa",
    "narok", "kajiado", "kisumu", "uasin-gishu", "migori", "homa-bay", "kitui", "siaya", "mandera", "turkana",
    "kericho", "trans-nzoia", "busia", "bomet", "makueni", "muranga", "nandi", "kwale", "nyeri", "garissa",
    "wajir", "nyandarua", "baringo", "vihiga", "laikipia", "nyamira", "kirinyaga", "embu", "west-pokot",
    "tharaka-nithi", "elgeyo-marakwet", "samburu", "taita-taveta", "marsabit", "tana-river", "isiolo", "lamu",
)
# Shares of the operations, as a county programme's day has them: reads of cases and referrals most, then partners'
# submissions and their screening, providers' session records; compliance searches and the national programme's
# indicator reads are a few an hour per person (and each national read sums over every county).
DEFAULT_MIX = {"submit": 30, "screening": 15, "case_read": 35, "session": 12, "compliance_search": 6,
               "national_read": 2}
NEEDS = ("education", "online_exposure")
TYPES = {"education": "education_career", "online_exposure": "online_safety"}
INDICATORS = ("funnel", "referrals", "plans", "timeliness", "change")
AUDIT_TYPES = ("referral.received", "referral.screened", "case.opened", "intervention.session_recorded")
# Bounds: a mistyped option must not load a machine for hours.
MAX_DURATION_S, MAX_RATE = 3600.0, 500.0
ATTEMPTS = 3


def check_loopback(url: str) -> None:
    """Load is for loopback only."""
    host = urlsplit(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit(f"load targets loopback only, not {host!r}")


# --- the gateway: tokens and requests ---------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """One OAuth client: what it is called and its credentials."""

    name: str
    client_id: str
    client_secret: str


def _refresh_margin(who: Identity) -> float:
    """How long before expiry a client renews its token: 1 to 5 minutes, its own (real clients renew at their
    own moments; all at once, a single load generator would herd them onto the token endpoint)."""
    return 60.0 + int.from_bytes(who.client_id.encode()[-4:], "big") % 240


class Gateway:
    """Requests through the gateway with real client-credentials tokens (cached, refreshed a minute early)."""

    def __init__(self, url: str, *, connections: int = 64) -> None:
        check_loopback(url)
        self.url = url
        # One pool for every identity: the token goes in a header, not in a client of its own.
        self.http = httpx.Client(base_url=url, timeout=30.0, trust_env=False,
                                 limits=httpx.Limits(max_connections=connections,
                                                     max_keepalive_connections=connections))
        self._tokens: dict[str, tuple[str, float]] = {}
        self._fetching: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def token(self, who: Identity) -> str:
        with self._lock:
            lock = self._fetching.setdefault(who.client_id, threading.Lock())
        # One fetch per client at a time: threads that find its token expiring wait for that one.
        with lock:
            cached = self._tokens.get(who.client_id)
            if cached and cached[1] > time.monotonic() + _refresh_margin(who):
                return cached[0]
            return self._fetch(who)

    def _fetch(self, who: Identity) -> str:
        for _ in range(60):  # the token endpoint is rate-limited per address: wait as told, boundedly
            response = self.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                      auth=(who.client_id, who.client_secret))
            if response.status_code == 429:
                time.sleep(min(float(response.headers.get("retry-after", "1")), 5.0))
                continue
            response.raise_for_status()
            body = response.json()
            self._tokens[who.client_id] = (body["access_token"], time.monotonic() + body["expires_in"])
            return body["access_token"]
        raise RuntimeError(f"no token for {who.name}: the token endpoint kept refusing")

    def call(self, who: Identity, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(who)}", **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def ok(self, who: Identity, method: str, path: str, *, expect: tuple[int, ...] = (200, 201),
           **kwargs: Any) -> httpx.Response:
        """A setup call that must succeed (transport errors retried: setup calls here are idempotent or checked)."""
        for attempt in range(ATTEMPTS):
            try:
                response = self.call(who, method, path, **kwargs)
            except httpx.TransportError:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            if response.status_code not in expect:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
            return response
        raise AssertionError("unreachable")


def eventually(probe: Callable[[], Any], *, timeout: float = 120, interval: float = 0.5) -> Any:
    """Polls probe until it returns something truthy, for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(interval)
    raise TimeoutError(f"nothing after {timeout:.0f}s")


# --- the people referred: distinct, varied, some referred twice ------------------------------------

GIVEN = ("Amina", "Baraka", "Chebet", "Daudi", "Esther", "Faith", "Halima", "Imani", "Jabari", "Kamau", "Kibet",
         "Lulu", "Makena", "Mohamed", "Njeri", "Nuru", "Otieno", "Wanjiru", "Zawadi", "Abdi", "Achieng", "Brian",
         "Cheruiyot", "Fatuma", "Hassan", "Juma", "Kerubo", "Mwangi", "Nafula", "Omondi", "Rehema", "Said",
         "Wafula", "Yusuf", "Akinyi", "Jeptoo", "Kiprono", "Moraa", "Nekesa", "Salim")
_SYLLABLES = ("wa", "nji", "ku", "mu", "ri", "ki", "ma", "ndi", "o", "ti", "e", "no", "che", "ro", "ha", "li",
              "ba", "ra", "ka", "si", "te", "mba", "nya", "go", "we", "ya", "ngu", "ta", "dho", "bi")
GENDERS = ("female", "male", "male", "female", "not_stated")
SOURCES = ("education",) * 4 + ("health",) * 2 + ("social_services",) * 2 + (
    "religious_leader", "family_or_friend", "family_or_friend", "community", "community", "cso", "cso", "self",
    "police_diversion")
BEHAVIOURS = ("sharing_violent_material", "consuming_extremist_content", "justifying_violence",
              "threats_of_violence", "contact_with_known_extremists", "recruiting_others", "plans_to_travel",
              "sudden_withdrawal", "secrecy_about_activities")
CONTEXTS = ("dropped_out", "grievance_or_injustice", "bereavement_or_trauma", "religious_or_political_views")
CONCERNS = (
    "Teacher reports withdrawal from classmates and new older contacts met online.",
    "Parent worried about videos shared in a family group and talk of leaving home.",
    "Youth worker heard repeated praise of an attack and pressure on younger boys to join meetings.",
    "Health volunteer reports sudden change of friends, secrecy about money and missed clinic visits.",
    "Religious leader concerned about a young person rejecting the community and threatening a neighbour.",
    "Coach notices a player recruiting teammates to an online group that glorifies violence.",
)
REFERRER_ROLES = ("class teacher", "imam", "community health volunteer", "youth worker", "parent", "chief",
                  "pastor", "social worker")


def _surname(rng: random.Random) -> str:
    # Letters only: intake folds names to letter tokens, so digits would make distinct people one.
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def new_person(rng: random.Random) -> dict[str, Any]:
    """A person not referred before (almost surely: a common given name, a generated family name, a birth date)."""
    born = datetime(1996, 1, 1) + timedelta(days=rng.randint(0, 16 * 365))
    person: dict[str, Any] = {"given_name": rng.choice(GIVEN), "family_name": _surname(rng),
                              "date_of_birth": born.date().isoformat(), "gender": rng.choice(GENDERS)}
    if rng.random() < 0.3:
        person["phone"] = f"+2547{rng.randint(0, 99_999_999):08d}"
    return person


def referral(rng: random.Random, person: dict[str, Any]) -> dict[str, Any]:
    """A referral about the person, its contents varied as real ones are."""
    body: dict[str, Any] = {
        "person": person,
        "source_type": rng.choice(SOURCES),
        "concern": rng.choice(CONCERNS),
        "indicators": rng.sample(BEHAVIOURS, rng.randint(1, 3)) + rng.sample(CONTEXTS, rng.randint(0, 1)),
        "referrer": {"role": rng.choice(REFERRER_ROLES)},
    }
    if rng.random() < 0.4:
        body["online_activity"] = {"platforms": rng.sample(("social_media", "messaging_apps", "video_sharing",
                                                            "gaming"), rng.randint(1, 2))}
    if rng.random() < 0.2:
        body["observed_behaviour"] = "Seen handing out printed material after school."
    return body


# --- provisioning: counties, their clients and agreements, and cases with plans ---------------------


@dataclass
class County:
    """One county tenant's identities and the work the load draws on (grown by the load itself)."""

    slug: str
    who: dict[str, Identity]
    tasks: list[str] = field(default_factory=list)
    to_screen: collections.deque[str] = field(default_factory=collections.deque)
    referrals: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=500))
    people: collections.deque[dict[str, Any]] = field(default_factory=lambda: collections.deque(maxlen=500))
    cases: collections.deque[tuple[str, str]] = field(default_factory=lambda: collections.deque(maxlen=200))
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class World:
    """Everything the load runs against."""

    gateway: Gateway
    counties: list[County]
    national: Identity


ROLES: dict[str, tuple[str | None, list[str], list[str]]] = {
    # name: (organisation suffix, roles, scopes)
    "cso": ("youth-cso", ["partner"], ["referrals:write", "referrals:read"]),
    "intake": (None, ["intake_officer"], ["referrals:write", "referrals:read", "cases:read"]),
    "manager": (None, ["case_worker"], ["referrals:read", "cases:read", "cases:write", "plans:write"]),
    "assessor": (None, ["assessor"], ["cases:read", "cases:write"]),
    "chair": (None, ["panel_member"], ["panel:read", "panel:write"]),
    "compliance": (None, ["compliance_officer"], ["audit:read"]),
    "provider": ("mentors", ["partner"], ["tasks:read", "tasks:write"]),
}


def _validity() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"valid_from": today.isoformat(), "valid_until": (today + timedelta(days=730)).isoformat(),
            "review_date": (today + timedelta(days=365)).isoformat()}


def _draft(tenant: str, name: str, *, title: str, purpose: str, party: tuple[str, str, str, str],
           categories: dict[str, tuple[bool, list[str]]], operations: list[str], **terms: Any) -> dict[str, Any]:
    """An agreement draft between the county (the controller) and one party: (kind, id, role, lawful basis);
    each data category by name: (sensitive, fields)."""
    kind, party_id, role, lawful_basis = party
    return {
        "reference": f"load-{tenant}-{name}", "title": title, "purpose": purpose,
        "parties": [{"kind": "tenant", "id": tenant, "role": "controller", "lawful_basis": "public_interest"},
                    {"kind": kind, "id": party_id, "role": role, "lawful_basis": lawful_basis}],
        "data_categories": [{"name": category, "sensitive": sensitive, "fields": fields}
                            for category, (sensitive, fields) in categories.items()],
        "operations": operations, "consent_required": False, "retention": {"days": 365, "then": "delete"},
        **_validity(), **terms,
    }


def _agreements(tenant: str) -> list[tuple[str, dict[str, Any]]]:
    """(operation, draft) for each agreement a county needs."""
    cso, mentors = f"{tenant}-youth-cso", f"{tenant}-mentors"
    return [
        ("submit_referrals", _draft(
            tenant, "cso-referrals", title=f"Referrals from the {tenant} youth CSO",
            purpose="The CSO refers young people it is concerned about and follows its referrals' status.",
            party=("organisation", cso, "processor", "legitimate_interests"),
            categories={
                "referral": (True, ["referral_id", "person.name", "person.date_of_birth", "person.contact",
                                    "concern.summary", "concern.indicators", "referrer.role", "referrer.source_type"]),
                "referral_status": (False, ["referral_id", "status", "received_at", "previous_status", "updated_at"]),
            },
            operations=["submit_referrals", "read_referral_status"])),
        ("read_aggregates", _draft(
            tenant, "national-aggregates", title=f"{tenant} indicators for the nation",
            purpose="National oversight of the county programme through aggregate indicators only.",
            party=("tenant", NATIONAL, "recipient", "public_interest"),
            categories={"programme_indicators": (False, ["referrals_by_source", "screening_outcomes",
                                                         "plans_completed"])},
            operations=["read_aggregates"], aggregate_suppression_threshold=5)),
        ("record_intervention_sessions", _draft(
            tenant, "mentors-interventions", title=f"Tasks delivered by {tenant} mentors",
            purpose="The provider delivers planned support and records sessions; never assessments.",
            party=("organisation", mentors, "processor", "consent"),
            categories={
                "intervention_task": (True, ["task_id", "reference", "goal", "intervention_type", "starts_on",
                                             "status"]),
                "delivery_record": (True, ["held_on", "duration_minutes", "attended", "note", "rating"]),
            },
            operations=["read_intervention_tasks", "record_intervention_sessions"], consent_required=True)),
    ]


def _all_pages(gw: Gateway, admin: Identity, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params = {**params, "limit": 500}
    for _ in range(100):
        page = gw.ok(admin, "GET", path, params=params).json()
        items += page["items"]
        if not page.get("next_cursor"):
            break
        params["cursor"] = page["next_cursor"]
    return items


def provision_registry(gw: Gateway, admin: Identity, slugs: list[str], *, workers: int = 6) -> dict[str, County]:
    """Each county tenant with its organisations, clients (fresh secrets) and agreements; the national tenant
    oversees them all. Idempotent: what exists is kept (existing clients get a new secret)."""
    existing_clients = {c["name"]: c["client_id"] for c in _all_pages(gw, admin, "/admin/v1/clients")}

    def one(tenant: str) -> County:
        gw.ok(admin, "POST", "/admin/v1/tenants", expect=(201, 409),
              json={"slug": tenant, "name": f"{tenant} referral programme", "kind": "county"})
        for suffix, kind in (("youth-cso", "cso"), ("mentors", "provider")):
            gw.ok(admin, "POST", "/admin/v1/organisations", expect=(201, 409),
                  json={"slug": f"{tenant}-{suffix}", "name": f"{tenant} {suffix}", "kind": kind, "tenants": [tenant]})
        who = {}
        for role, (organisation, roles, scopes) in ROLES.items():
            name = f"load-{tenant}-{role}"
            grant = {"tenant": tenant, "roles": roles, "scopes": scopes}
            if name in existing_clients:
                client_id = existing_clients[name]
                secret = gw.ok(admin, "POST", f"/admin/v1/clients/{client_id}/secret/rotate").json()["client_secret"]
            else:
                created = gw.ok(admin, "POST", "/admin/v1/clients", json={
                    "name": name, "organisation": f"{tenant}-{organisation}" if organisation else None,
                    "grants": [grant]}).json()
                client_id, secret = created["client_id"], created["client_secret"]
            who[role] = Identity(name, client_id, secret)
        held = _all_pages(gw, admin, "/admin/v1/agreements", party=f"tenant:{tenant}")
        for operation, draft in _agreements(tenant):
            _, counterparty = draft["parties"]
            if any(a["status"] == "active" and operation in a["operations"]
                   and any(p["kind"] == counterparty["kind"] and p["id"] == counterparty["id"] for p in a["parties"])
                   for a in held):
                continue  # e.g. the demo's own agreements with ke-mombasa
            created = gw.ok(admin, "POST", "/admin/v1/agreements", json=draft).json()
            gw.ok(admin, "POST", f"/admin/v1/agreements/{created['id']}/activate")
        return County(slug=tenant, who=who)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        counties = dict(zip(slugs, pool.map(one, slugs), strict=True))
    national = gw.ok(admin, "GET", f"/admin/v1/tenants/{NATIONAL}").json()
    oversees = sorted(set(national["oversees"]) | set(slugs))
    gw.ok(admin, "PATCH", f"/admin/v1/tenants/{NATIONAL}", json={"oversees": oversees})
    return counties


def submit(gw: Gateway, county: County, rng: random.Random, *, person: dict[str, Any] | None = None) -> httpx.Response:
    """A partner's referral, with an Idempotency-Key as a partner system sends it."""
    person = person or new_person(rng)
    response = gw.call(county.who["cso"], "POST", f"/intake/v1/tenants/{county.slug}/referrals",
                       json=referral(rng, person), headers={"Idempotency-Key": uuid.uuid4().hex})
    if response.status_code == 201:
        with county.lock:
            county.to_screen.append(response.json()["id"])
            county.referrals.append(response.json()["id"])
            county.people.append(person)
    return response


def screen(gw: Gateway, county: County, referral_id: str, body: dict[str, Any]) -> httpx.Response:
    """An intake officer reads the referral and screens it (If-Match: the version read)."""
    url = f"/intake/v1/tenants/{county.slug}/referrals/{referral_id}"
    current = gw.call(county.who["intake"], "GET", url)
    if current.status_code != 200:
        return current
    return gw.call(county.who["intake"], "POST", f"{url}/screening", json=body,
                   headers={"If-Match": current.headers["etag"]})


def consented_case_with_plan(gw: Gateway, county: County, rng: random.Random, provider_id: str) -> list[str]:
    """One case the real way (referral, screening, assessment approved by a second person, the panel's
    adoption, consent at intake), then its plan: returns the provider's task ids."""
    t, who = county.slug, county.who
    a = f"/assessment/v1/tenants/{t}"
    # The agreement copies reach intake by event: the first submissions may be refused for a moment.
    created = eventually(lambda: (r := submit(gw, county, rng)).status_code == 201 and r, timeout=120)
    referral_id = created.json()["id"]
    with county.lock:
        county.to_screen.remove(referral_id)
    screened = screen(gw, county, referral_id, {"outcome": "accept"})
    assert screened.status_code == 200, screened.text
    case = eventually(lambda: gw.ok(who["manager"], "GET", f"{a}/cases",
                                    params={"referral_id": referral_id}).json()["items"])[0]
    assessor = gw.ok(who["assessor"], "GET", f"{a}/me").json()["subject"]
    gw.ok(who["manager"], "POST", f"{a}/cases/{case['id']}/assignments", json={"assessor": assessor})
    framework = next(f["id"] for f in gw.ok(who["assessor"], "GET", f"{a}/frameworks").json()["items"]
                     if f["code"] == "concerns-and-strengths")
    assessment = gw.ok(who["assessor"], "POST", f"{a}/cases/{case['id']}/assessments",
                       json={"framework_id": framework}).json()["id"]
    gw.ok(who["assessor"], "POST", f"{a}/assessments/{assessment}/contributions",
          json={"ratings": {"social_online": "present"}})
    gw.ok(who["assessor"], "POST", f"{a}/assessments/{assessment}/submit",
          json={"summary": "Needs support.", "needs": list(NEEDS), "management_plan": "Mentoring and schooling."})
    gw.ok(who["manager"], "POST", f"{a}/assessments/{assessment}/approve")
    chair = gw.ok(who["chair"], "GET", f"{a}/me").json()["subject"]
    today = datetime.now(UTC).date()
    meeting = gw.ok(who["manager"], "POST", f"{a}/panel-meetings", json={
        "held_on": today.isoformat(), "chair": chair, "agenda": [case["id"]],
        "attendees": [{"person": chair, "agency": f"{t}-programme"}, {"person": "health-lead", "agency": f"{t}-health"},
                      {"person": "cso-lead", "agency": f"{t}-youth-cso"}]}).json()
    gw.ok(who["chair"], "POST", f"{a}/panel-meetings/{meeting['id']}/decisions", json={
        "case_id": case["id"], "outcome": "adopt", "reasons": "Shared concern; the family asks for support.",
        "next_review_on": (today + timedelta(days=90)).isoformat()})
    gw.ok(who["intake"], "POST", f"/intake/v1/tenants/{t}/subjects/{case['subject_ref']}/consents", json={
        "given_by": "parent", "giver_name": "Parent of the young person", "purposes": ["support"],
        # The provider by its registry id: its agreement requires the person's consent to share with it.
        "recipients": [f"{t} referral programme", f"{t}-mentors"], "method": "written",
        "given_at": datetime.now(UTC).isoformat(), "evidence": "Signed form"})
    plan = {"items": [{"need": need, "goal": f"Support for {need.replace('_', ' ')}",
                       "intervention_type": TYPES[need], "provider_id": provider_id, "starts_on": today.isoformat(),
                       "expected_end_on": (today + timedelta(days=120)).isoformat()} for need in NEEDS]}

    def planned() -> dict[str, Any] | None:  # 409 until interventions has heard of the consent
        response = gw.call(who["manager"], "POST", f"/interventions/v1/tenants/{t}/cases/{case['id']}/plan",
                           json=plan)
        if response.status_code not in (201, 409):
            raise RuntimeError(f"plan: {response.status_code} {response.text[:300]}")
        return response.json() if response.status_code == 201 else None

    made = eventually(planned)
    with county.lock:
        county.cases.append((case["id"], case["subject_ref"]))
    return [item["task_id"] for item in made["items"]]


def provider(gw: Gateway, county: County) -> str:
    """The county's mentors registered as a provider and vetted for the plan's types."""
    api = f"/interventions/v1/tenants/{county.slug}"
    manager = county.who["manager"]
    registered = gw.ok(manager, "POST", f"{api}/providers", expect=(201, 409),
                       json={"organisation": f"{county.slug}-mentors"})
    if registered.status_code == 201:
        found = registered.json()["provider_id"]
    else:
        found = next(p["provider_id"] for p in _all_pages(gw, manager, f"{api}/providers")
                     if p["organisation"] == f"{county.slug}-mentors")
    vetted_on = datetime.now(UTC).date() - timedelta(days=10)
    for code in TYPES.values():
        gw.ok(manager, "PUT", f"{api}/providers/{found}/vettings/{code}", json={
            "vetted_on": vetted_on.isoformat(), "expires_on": (vetted_on + timedelta(days=730)).isoformat()})
    return found


def provision(gw: Gateway, admin: Identity, national: Identity, *, counties: int, cases_per_county: int,
              seed: int, workers: int = 6) -> World:
    """The registry for `counties` counties, and `cases_per_county` planned cases in each."""
    slugs = [f"ke-{name}" for name in COUNTIES[:counties]]
    began = time.monotonic()
    by_slug = provision_registry(gw, admin, slugs, workers=workers)
    print(f"registry: {len(slugs)} counties, their clients and agreements in {time.monotonic() - began:.0f} s",
          flush=True)
    began = time.monotonic()

    def cases(county: County) -> None:
        rng = random.Random(f"{seed}-setup-{county.slug}")
        try:
            provider_id = provider(gw, county)
            for _ in range(cases_per_county):
                county.tasks += consented_case_with_plan(gw, county, rng, provider_id)
        except Exception as exc:  # one county's failure is reported, and the load runs without its sessions
            print(f"{county.slug}: a case could not be taken to a plan: {exc!r:.300}", flush=True)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(cases, by_slug.values()))
    print(f"cases: {cases_per_county} per county taken to a plan in {time.monotonic() - began:.0f} s", flush=True)
    # Every identity's first token before the load (they are refreshed during it as they near expiry), so that
    # the load measures the work, not a burst of first sign-ins.
    for county in by_slug.values():
        for who in county.who.values():
            gw.token(who)
    gw.token(national)
    return World(gateway=gw, counties=list(by_slug.values()), national=national)


# --- the load -----------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one operation got: its final status ("skipped" when there was nothing to do it on)."""

    status: int | str
    ok: bool
    detail: str = ""

    @classmethod
    def of(cls, response: httpx.Response, *, expect: int) -> Outcome:
        ok = response.status_code == expect
        return cls(response.status_code, ok, "" if ok else response.text[:200])


def op_submit(world: World, county: County, rng: random.Random) -> Outcome:
    """A partner's submission; one in twenty is about a person the county was sent before."""
    with county.lock:
        again = rng.choice(county.people) if county.people and rng.random() < 0.05 else None
    response = submit(world.gateway, county, rng, person=again)
    return Outcome.of(response, expect=201)


SCREENINGS = ([{"outcome": "accept"}] * 4
              + [{"outcome": "signpost", "service": s} for s in ("mental_health", "education_support", "livelihoods")]
              + [{"outcome": "no_further_action", "reason": r} for r in ("misguided", "out_of_scope",
                                                                          "insufficient_information")])


def op_screening(world: World, county: County, rng: random.Random) -> Outcome:
    """An intake officer screens the oldest referral waiting (GET for its ETag, then the POST)."""
    with county.lock:
        referral_id = county.to_screen.popleft() if county.to_screen else None
    if referral_id is None:
        return Outcome("skipped", True)
    response = screen(world.gateway, county, referral_id, rng.choice(SCREENINGS))
    return Outcome.of(response, expect=200)


def op_case_read(world: World, county: County, rng: random.Random) -> Outcome:
    """A case worker lists cases, opens one, or reads a referral (each read of personal data is audited)."""
    gw, who, t = world.gateway, county.who["manager"], county.slug
    with county.lock:
        case = rng.choice(county.cases) if county.cases else None
        referral_id = rng.choice(county.referrals) if county.referrals else None
    choice = rng.random()
    if choice < 0.3 and referral_id:
        response = gw.call(who, "GET", f"/intake/v1/tenants/{t}/referrals/{referral_id}")
    elif choice < 0.6 and case:
        response = gw.call(who, "GET", f"/assessment/v1/tenants/{t}/cases/{case[0]}")
    else:
        response = gw.call(who, "GET", f"/assessment/v1/tenants/{t}/cases", params={"limit": 20})
        if response.status_code == 200:
            with county.lock:
                county.cases.extend((c["id"], c["subject_ref"]) for c in response.json()["items"][:5])
    return Outcome.of(response, expect=200)


NOTES = ("Talked about school and plans for the term.", "Met with the family; attended with a friend.",
         "Online safety exercise; engaged well.", "Missed: phone off, follow-up next week.", None)


def op_session(world: World, county: County, rng: random.Random) -> Outcome:
    """A provider's system records a session on one of its tasks."""
    if not county.tasks:
        return Outcome("skipped", True)
    attended = rng.random() < 0.85
    body = {"held_on": datetime.now(UTC).date().isoformat(), "attended": attended,
            "duration_minutes": rng.choice((30, 45, 60, 90)) if attended else 0}
    if note := rng.choice(NOTES):
        body["note"] = note
    response = world.gateway.call(county.who["provider"], "POST",
                                  f"/interventions/v1/tenants/{county.slug}/tasks/{rng.choice(county.tasks)}/sessions",
                                  json=body)
    return Outcome.of(response, expect=201)


def op_compliance_search(world: World, county: County, rng: random.Random) -> Outcome:
    """A compliance officer searches the county's audit log: by type, by person, or the last hour."""
    with county.lock:
        case = rng.choice(county.cases) if county.cases else None
    choice = rng.random()
    if choice < 0.4 and case:
        params: dict[str, Any] = {"subject": case[1]}
    elif choice < 0.7:
        params = {"type": rng.choice(AUDIT_TYPES)}
    else:
        params = {"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    response = world.gateway.call(county.who["compliance"], "GET", f"/audit/v1/tenants/{county.slug}/entries",
                                  params={**params, "limit": 50})
    return Outcome.of(response, expect=200)


def op_national_read(world: World, _county: County, rng: random.Random) -> Outcome:
    """The national coordinator reads an indicator over the sharing counties, or the county table."""
    today = datetime.now(UTC).date()
    months = rng.choice((1, 3, 6, 12))
    start = (today.replace(day=1) - timedelta(days=31 * (months - 1))).strftime("%Y-%m")
    path = rng.choice((*INDICATORS, "counties"))
    response = world.gateway.call(world.national, "GET", f"/monitoring/v1/tenants/{NATIONAL}/indicators/{path}",
                                  params={"from": start, "to": today.strftime("%Y-%m")})
    return Outcome.of(response, expect=200)


OPERATIONS: dict[str, Callable[[World, County, random.Random], Outcome]] = {
    "submit": op_submit, "screening": op_screening, "case_read": op_case_read, "session": op_session,
    "compliance_search": op_compliance_search, "national_read": op_national_read,
}


@dataclass
class OpStats:
    """Latencies (seconds, from when the operation was due) and statuses of one operation."""

    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: int = 0
    skipped: int = 0
    examples: dict[str, str] = field(default_factory=dict)  # the first answer of each unexpected status

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


@dataclass
class LoadReport:
    """A run's figures."""

    ops: dict[str, OpStats]
    scheduled: int
    dropped: int
    seconds: float
    rate: float

    @property
    def server_errors(self) -> int:
        return sum(n for s in self.ops.values() for status, n in s.statuses.items()
                   if status.isdigit() and int(status) >= 500)


def _where(exc: httpx.TransportError) -> str:
    try:
        return f"{exc.request.method} {exc.request.url.path}"
    except RuntimeError:  # raised before a request was made
        return str(exc)[:200]


def run_load(world: World, *, rate: float, duration: float, mix: dict[str, float], seed: int,
             max_in_flight: int = 64, on_tick: Callable[[float], None] | None = None) -> LoadReport:
    """Launches rate*duration operations on a fixed schedule (open loop) and waits for them (bounded).

    An operation due while max_in_flight are still running is dropped and counted: the client is then the
    bottleneck, and the figures say so instead of quietly lowering the rate. `on_tick(elapsed)` is called
    from the scheduling loop about once a second (the caller samples processes there)."""
    if not 0 < rate <= MAX_RATE or not 0 < duration <= MAX_DURATION_S:
        raise ValueError(f"rate must be in (0, {MAX_RATE}] and duration in (0, {MAX_DURATION_S}]")
    names = [n for n, w in mix.items() if w > 0]
    weights = [mix[n] for n in names]
    county_weights = [1 / (rank + 1) ** 0.5 for rank in range(len(world.counties))]
    stats = {name: OpStats() for name in names}
    lock = threading.Lock()
    in_flight = threading.Semaphore(max_in_flight)
    dropped = 0
    total = int(rate * duration)
    schedule_rng = random.Random(seed)

    def one(name: str, county: County, op_seed: int, due: float) -> None:
        try:
            try:
                outcome = OPERATIONS[name](world, county, random.Random(op_seed))
            except httpx.TransportError as exc:
                outcome = Outcome(f"transport:{type(exc).__name__}", False, _where(exc))
            except Exception as exc:  # counted, not raised: the report says what broke
                outcome = Outcome(f"exception:{type(exc).__name__}", False, str(exc)[:200])
            elapsed = time.perf_counter() - due
            with lock:
                s = stats[name]
                if outcome.status == "skipped":
                    s.skipped += 1
                    return
                s.latencies.append(elapsed)
                s.statuses[str(outcome.status)] += 1
                s.errors += not outcome.ok
                if not outcome.ok:
                    s.examples.setdefault(str(outcome.status), outcome.detail)
        finally:
            in_flight.release()

    started = time.perf_counter()
    last_tick = 0.0
    with ThreadPoolExecutor(max_workers=max_in_flight) as pool:
        for i in range(total):
            due = started + i / rate
            while (wait := due - time.perf_counter()) > 0:
                time.sleep(min(wait, 0.5))
            name = schedule_rng.choices(names, weights)[0]
            county = schedule_rng.choices(world.counties, county_weights)[0]
            op_seed = schedule_rng.getrandbits(64)
            if on_tick is not None and due - last_tick >= 1.0:
                last_tick = due
                on_tick(due - started)
            if not in_flight.acquire(blocking=False):
                dropped += 1
                continue
            pool.submit(one, name, county, op_seed, due)
    return LoadReport(ops=stats, scheduled=total, dropped=dropped, seconds=time.perf_counter() - started, rate=rate)


# --- the platform's processes: memory and CPU ----------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A process group's resident memory (bytes) and CPU seconds so far."""

    rss: int
    cpu: float
    processes: int


class Processes:
    """The platform's processes by name; PostgreSQL is its server and every backend under it (their PSS summed,
    since they share buffers: RSS would count the shared memory once per backend)."""

    def __init__(self, pids: dict[str, int], *, trees: frozenset[str] = frozenset()) -> None:
        self.pids = pids
        self.trees = trees  # names whose children count with them (PostgreSQL's backends)
        self.series: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)

    @classmethod
    def of_stack(cls, stack: Any) -> Processes:
        from harambee_common.components import COMPONENTS, SERVICES
        from harambee_stack.postgres import postmaster_pid

        pids = {c.name: stack.pid(c.name) for c in COMPONENTS}
        pids |= {f"{s.name}-relay": stack.pid(f"{s.name}-relay") for s in SERVICES}
        broker = [p for p in psutil.Process().children() if "--listener-url" in " ".join(p.cmdline())]
        if broker:
            pids["broker"] = broker[0].pid
        postgres = stack.postgres.data_dir if stack.postgres is not None else None
        if postgres is not None and (pid := postmaster_pid(postgres)) is not None:
            pids["postgresql"] = pid
        return cls({k: v for k, v in pids.items() if v is not None}, trees=frozenset({"postgresql"}))

    @classmethod
    def of_url(cls, gateway_url: str) -> Processes:
        """A running stack's processes: those whose environment names this gateway as the issuer, and
        whatever listens on the broker's and PostgreSQL's ports they were given."""
        pids: dict[str, int] = {}
        ports: dict[str, int] = {}
        for p in psutil.process_iter(["pid", "cmdline"]):
            cmd = p.info["cmdline"] or []
            if len(cmd) < 4 or cmd[1] != "-m" or not cmd[2].startswith("harambee_"):
                continue
            try:
                env = p.environ()
            except (psutil.AccessDenied, psutil.NoSuchProcess):
                continue
            if env.get("HARAMBEE_ISSUER") != gateway_url or cmd[3] not in ("serve", "relay"):
                continue
            name = cmd[2].removeprefix("harambee_")
            pids[name if cmd[3] == "serve" else f"{name}-relay"] = p.info["pid"]
            if bootstrap := env.get("KAFKA_BOOTSTRAP_SERVERS"):
                ports["broker"] = int(bootstrap.split(",")[0].rsplit(":", 1)[1])
            if database := env.get("DATABASE_URL"):
                url = urlsplit(database)
                socket_dir = parse_qs(url.query).get("host", [""])[0]
                if socket_dir.startswith("/"):  # the embedded server: its socket is in its data directory
                    from harambee_stack.postgres import postmaster_pid

                    if (pid := postmaster_pid(Path(socket_dir))) is not None:
                        pids["postgresql"] = pid
                else:
                    ports["postgresql"] = url.port or 5432
        for conn in psutil.net_connections(kind="tcp"):
            for name, port in ports.items():
                if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
                    pids.setdefault(name, conn.pid)
        return cls(pids, trees=frozenset({"postgresql"}))

    def sample(self, at: float | None = None) -> dict[str, Sample]:
        """Each process's (or group's) memory and CPU now; `at` adds the memory to the series for the peak."""
        out = {}
        for name, pid in self.pids.items():
            try:
                root = psutil.Process(pid)
                members = [root, *(root.children(recursive=True) if name in self.trees else ())]
            except psutil.NoSuchProcess:
                continue
            rss, cpu, counted = 0, 0.0, 0
            for p in members:
                try:
                    with p.oneshot():
                        # A group shares memory (PostgreSQL's buffers): its proportional share, not each RSS.
                        rss += p.memory_full_info().pss if name in self.trees else p.memory_info().rss
                        times = p.cpu_times()
                        cpu += times.user + times.system
                        counted += 1
                except (psutil.NoSuchProcess, psutil.AccessDenied):  # a backend that ended as we looked
                    continue
            out[name] = Sample(rss, cpu, counted)
            if at is not None:
                self.series[name].append((at, rss))
        return out


# --- printing ---------------------------------------------------------------------------------------------


def print_report(report: LoadReport, before: dict[str, Sample], after: dict[str, Sample],
                 processes: Processes, *, out: Any = sys.stdout) -> None:
    done = sum(len(s.latencies) for s in report.ops.values())
    print(f"\n{report.scheduled} operations scheduled at {report.rate:g}/s over {report.seconds:.0f} s; "
          f"{done} done, {sum(s.skipped for s in report.ops.values())} skipped (nothing to act on), "
          f"{report.dropped} dropped (client at its in-flight bound)", file=out)
    print(f"{'operation':<18} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  statuses", file=out)
    for name, s in report.ops.items():
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(s.statuses.items()))
        print(f"{name:<18} {len(s.latencies):>7} {s.percentile(50):>8.1f} {s.percentile(99):>8.1f} {s.errors:>7}  "
              f"{statuses}", file=out)
    for name, s in report.ops.items():
        for status, detail in s.examples.items():
            print(f"  {name} {status}, the first: {detail}", file=out)
    print(f"\n{'process':<20} {'RSS start MB':>12} {'RSS end MB':>11} {'end/start':>9} {'max MB':>8} "
          f"{'CPU s':>7}", file=out)
    for name in sorted(after, key=lambda n: -(after[n].cpu - before.get(n, after[n]).cpu)):
        if name not in before:
            continue
        b, a = before[name], after[name]
        peak = max((rss for _, rss in processes.series.get(name, [])), default=a.rss)
        note = f"  (PSS of {a.processes} processes)" if name in processes.trees else ""
        print(f"{name:<20} {b.rss / 2**20:>12.1f} {a.rss / 2**20:>11.1f} {a.rss / b.rss:>9.2f} "
              f"{peak / 2**20:>8.1f} {a.cpu - b.cpu:>7.1f}{note}", file=out)


def parse_mix(text: str | None) -> dict[str, float]:
    if not text:
        return dict(DEFAULT_MIX)
    mix = {name: 0.0 for name in DEFAULT_MIX}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in OPERATIONS:
            raise SystemExit(f"unknown operation {name!r}: one of {', '.join(OPERATIONS)}")
        mix[name.strip()] = float(weight)
    return mix


@contextlib.contextmanager
def platform(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any], Processes]]:
    """The gateway URL, the credentials file's contents and the processes: a stack of our own, or --url's."""
    if args.url:
        check_loopback(args.url)
        import json

        yield args.url, json.loads(Path(args.credentials).read_text()), Processes.of_url(args.url)
        return
    from harambee_stack.stack import Stack, free_ports

    with contextlib.ExitStack() as scope:
        state = args.state_dir or scope.enter_context(tempfile.TemporaryDirectory(prefix="mixed-load-"))
        stack = scope.enter_context(Stack(state_dir=Path(state), ports=free_ports(), ephemeral=True))
        yield stack.gateway_url, stack.credentials, Processes.of_stack(stack)


def identity(credentials: dict[str, Any], name: str) -> Identity:
    found = next(c for c in credentials["clients"] if c["name"] == name)
    return Identity(name, found["client_id"], found["client_secret"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    parser.add_argument("--rate", type=float, default=10.0, help="operations per second (default 10)")
    parser.add_argument("--counties", type=int, default=47, help="county tenants, 1 to 47 (default 47)")
    parser.add_argument("--cases-per-county", type=int, default=1,
                        help="cases taken to a plan per county before the load (providers' tasks; default 1)")
    parser.add_argument("--mix", help=f"weights, e.g. {','.join(f'{k}={v}' for k, v in DEFAULT_MIX.items())}")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--state-dir", help="the started stack's state and logs (kept); default: a temporary one")
    parser.add_argument("--url", help="a running stack's gateway (loopback); default: start one")
    parser.add_argument("--credentials", default=".run/demo-credentials.json",
                        help="with --url: the seed's credentials file (platform-admin, national-coordinator)")
    args = parser.parse_args()
    if not 1 <= args.counties <= len(COUNTIES):
        raise SystemExit(f"--counties is 1 to {len(COUNTIES)}")
    mix = parse_mix(args.mix)
    began = time.monotonic()
    with platform(args) as (url, credentials, processes):
        print(f"platform at {url} ({time.monotonic() - began:.0f} s); {len(processes.pids)} processes watched: "
              f"{', '.join(sorted(processes.pids))}", flush=True)
        gw = Gateway(url, connections=args.max_in_flight)
        try:
            admin, national = (identity(credentials, n) for n in ("platform-admin", "national-coordinator"))
            world = provision(gw, admin, national, counties=args.counties,
                              cases_per_county=args.cases_per_county, seed=args.seed)
            print(f"provisioned {len(world.counties)} counties and {NATIONAL} "
                  f"({sum(len(c.tasks) for c in world.counties)} provider tasks); {time.monotonic() - began:.0f} s "
                  f"since the start", flush=True)
            load_start = os.getloadavg()
            before = processes.sample(at=0.0)

            next_sample = [60.0]

            def tick(elapsed: float) -> None:  # memory once a minute, for the peak
                if elapsed >= next_sample[0]:
                    next_sample[0] += 60.0
                    processes.sample(at=elapsed)

            report = run_load(world, rate=args.rate, duration=args.duration, mix=mix, seed=args.seed,
                              max_in_flight=args.max_in_flight, on_tick=tick)
            after = processes.sample(at=report.seconds)
            print(f"machine load average (1, 5, 15 min): at the start {' '.join(f'{x:.1f}' for x in load_start)}, "
                  f"at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs")
            print_report(report, before, after, processes)
        finally:
            gw.close()


if __name__ == "__main__":
    main()
