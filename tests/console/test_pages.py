"""The pages drawn from the shapes the APIs answer with: monitoring's indicator views, the panel's agenda,
interventions' flags. (The browser tests run them against the live services once those are deployed.)"""

from __future__ import annotations

from html.parser import HTMLParser

from starlette.requests import Request

from harambee_common.auth import Principal
from harambee_gateway.console.cookies import Session
from harambee_gateway.console.figures import Cell
from harambee_gateway.console.pages import Pages, Visitor

MANAGER = Visitor(language="en", session=Session(token="t", expires_at=0, csrf="token-1"), principal=Principal(
    subject="p-1", client_id="console", scopes=frozenset({"aggregates:read"}),
    tenants={"ke-mombasa": frozenset({"programme_manager"})}, organisation=None))
COORDINATOR = Visitor(language="sw", principal=Principal(
    subject="p-2", client_id="console", scopes=frozenset({"aggregates:read"}),
    tenants={"ke-national": frozenset({"national_coordinator"})}, organisation=None))
NONE = {"kind": "none", "noisy": False}
NOISY = {"kind": "differential_privacy", "noisy": True, "noise_scale": 2.5, "epsilon": 0.4}


def request(path: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []})


class Text(HTMLParser):
    """The page's rows as text, one list of cell texts per table row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(html: str) -> list[list[str]]:
    parser = Text()
    parser.feed(html)
    return parser.rows


def group(name: str, ratio: float, flagged: bool) -> dict:
    return {"dimension": "age_band_gender", "group": name, "source_type": None, "population": 1000,
            "population_share": 0.1, "referrals": 20, "referral_share": 0.1 * ratio, "ratio": ratio,
            "referrals_per_10000": 200.0, "adopted": 5, "adoption_rate": 0.25, "flagged": flagged}


def test_the_programme_page_puts_over_referred_groups_first_and_draws_the_indicators() -> None:
    disparity = {"tenant": "ke-mombasa", "months": ["2026-11"], "threshold": 2.0, "protection": NONE,
                 "flagged": [group("18_24:male", 2.6, True)],
                 "groups": [group("25_34:female", 0.8, False), group("18_24:male", 2.6, True)],
                 "missing_population": []}
    funnel = {"tenant": "ke-mombasa", "indicator": "funnel", "months": ["2026-10", "2026-11"], "protection": NONE,
              "tables": [{"name": "stages", "description": "Cases at each stage", "unit": "count", "series": [
                  {"key": "referred", "values": [12, 9], "total": 21, "withheld": [], "partial": []},
                  {"key": "screened", "values": [None, 7], "total": None, "withheld": ["2026-10"], "partial": []}]}]}
    timeliness = {"tenant": "ke-mombasa", "indicator": "timeliness", "months": ["2026-11"], "protection": NONE,
                  "tables": [{"name": "days", "description": "Days from referral to screening", "unit": "days",
                              "series": [{"key": "p50", "values": [None], "total": None, "withheld": [],
                                          "partial": []}]}]}
    agenda = {"meeting": {"id": "m-1", "held_on": "2026-12-10", "quorate": False}, "items": [
        {"case_id": "c-1", "subject_ref": "s-1", "status": "open", "assessment": None, "decision": None}]}
    flags = {"items": [{"flag_id": "f-1", "kind": "plan_stalled", "case_id": "c-2", "subject_ref": "s-2",
                        "target_id": "t-1", "task_id": None, "raised_at": "2026-12-01T06:00:00Z", "closed_at": None,
                        "action": None, "note": None}], "next_cursor": None}
    page = Pages().render(request("/console/t/ke-mombasa/programme"), MANAGER, "programme.html", tenant="ke-mombasa",
                          by_status=[Cell("open", 3, False)], by_month=[Cell("2026-11", 3, False)],
                          disparity=disparity, funnel=funnel, timeliness=timeliness, flags=flags, agenda=agenda,
                          closed=None)
    html = page.body.decode()
    table = rows(html)
    disparity_rows = [r for r in table if r and r[0].startswith("age_band_gender")]
    assert [r[0] for r in disparity_rows] == ["age_band_gender: 18_24:male", "age_band_gender: 25_34:female"]
    assert disparity_rows[0][-1] == "over-referred" and disparity_rows[1][-1] == "—"
    assert "1 groups are referred at 2 times" in html
    assert ["2026-10", "12", "suppressed"] in table  # a withheld month is suppressed, not 0
    # Days are a table, not bars; a value that is not defined is a dash, not "suppressed".
    timeliness_section = html[html.index('id="timeliness"'):html.index('id="flags"')]
    assert "<svg" not in timeliness_section and "suppressed" not in timeliness_section
    assert ["2026-11", "—"] in table
    assert ["plan_stalled", "c-2", "Dec 1, 2026, 9:00:00 AM EAT"] in [r[:3] for r in table]
    # Each flag can be acted on: a form that closes it with the action taken, carrying the session's CSRF token.
    assert 'action="/console/t/ke-mombasa/programme/flags/f-1/close"' in html
    assert 'name="csrf" value="token-1"' in html
    assert "not quorate" in html and "c-1" in html


def test_the_national_page_labels_noisy_counties_and_excluded_ones() -> None:
    indicators = {"tenant": "ke-national", "months": ["2026-10", "2026-11"], "columns": ["referred", "closed"],
                  "counties": [{"county": "ke-mombasa", "figures": {"referred": 41.7, "closed": None},
                                "protection": NOISY}],
                  "counties_excluded": ["ke-nairobi"]}
    page = Pages().render(request("/console/t/ke-national/national"), COORDINATOR, "national.html",
                          tenant="ke-national", counties=[], statuses=[], indicators=indicators)
    html = page.body.decode()
    assert 'lang="sw"' in html
    table = rows(html)
    assert ["ke-mombasa", "41.7", "imefichwa", "yenye kelele (kipimo 2.5)"] in table
    assert ["ke-nairobi", "hakuna makubaliano"] in table
