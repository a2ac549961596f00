"""Languages: English and Swahili catalogues (gettext, compiled from the .po files at startup), the
choice from the person's cookie or the browser's Accept-Language, dates in East Africa Time, and the
writing direction for the page's `dir` attribute."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "sw")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
# Kenya keeps East Africa Time all year (no daylight saving): a fixed offset needs no tz database.
EAT = timezone(timedelta(hours=3), "EAT")


def load_translations(language: str) -> NullTranslations:
    """The language's catalogue; English is the source language and needs none."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def negotiate(*, chosen: str | None, accept_language: str | None) -> str:
    """The language the person chose, else the browser's first one we have, else English."""
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality + position * 1e-6, tag.strip().lower()))
    for _, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def direction(language: str) -> str:
    """`ltr` or `rtl`, from the locale's own data (so a right-to-left catalogue needs no code change)."""
    return "rtl" if Locale.parse(language).character_order == "right-to-left" else "ltr"


class Formats:
    """Dates, times and numbers as one language writes them; times in East Africa Time."""

    def __init__(self, language: str) -> None:
        self.language = language

    def when(self, value: datetime | str | None) -> str:
        """A moment, in East Africa Time (`EAT` is shown, so no one mistakes it for UTC)."""
        if value is None or value == "":
            return "—"
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return format_datetime(moment.astimezone(EAT), "medium", locale=self.language) + " EAT"

    def day(self, value: date | str | None) -> str:
        """A date."""
        if value is None or value == "":
            return "—"
        return format_date(date.fromisoformat(value[:10]) if isinstance(value, str) else value, "medium",
                           locale=self.language)

    def number(self, value: float | int | None) -> str:
        """A count or a figure."""
        return "—" if value is None else format_decimal(value, locale=self.language)

    def percent(self, value: float | None) -> str:
        """A share (0.25 → 25 %)."""
        return "—" if value is None else format_percent(value, locale=self.language)
