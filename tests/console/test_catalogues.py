"""Every string the console shows is in the Swahili catalogue, and the language and time rules hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import harambee_gateway.console as console_package
from harambee_gateway.console.i18n import Formats, direction, load_translations, negotiate

PLACEHOLDER = re.compile(r"%\(\w+\)s")
PACKAGE = Path(console_package.__file__).parent
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _extracted() -> set[str]:
    messages = set()
    for _, _, message, _, _ in extract_from_dir(str(PACKAGE), METHODS, options_map=OPTIONS):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def test_every_string_in_the_console_has_a_swahili_translation() -> None:
    extracted = _extracted()
    assert len(extracted) > 100  # the extraction found the templates' strings
    with (PACKAGE / "locale" / "sw" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale="sw")
    translated = {m.id: m.string for m in catalog if m.id and not m.fuzzy}
    missing = sorted(m for m in extracted if not translated.get(m))
    assert missing == [], f"untranslated in locale/sw: {missing}"
    # Placeholders survive translation, or the page would show the wrong figure or fail.
    for message in extracted:
        assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(translated[message])), message


def test_the_catalogue_is_what_the_pages_render_with() -> None:
    assert load_translations("sw").gettext("Sign in") == "Ingia"
    assert load_translations("en").gettext("Sign in") == "Sign in"


@pytest.mark.parametrize(
    ("chosen", "header", "language"),
    [
        (None, "sw-KE,sw;q=0.9,en;q=0.8", "sw"),
        (None, "fr-FR,en;q=0.5,sw;q=0.8", "sw"),
        (None, "fr-FR", "en"),
        (None, None, "en"),
        ("en", "sw-KE", "en"),
        ("xx", "sw", "sw"),
        (None, "en;q=bad,sw", "sw"),
    ],
)
def test_the_language_is_the_persons_choice_else_the_browsers(chosen, header, language) -> None:
    assert negotiate(chosen=chosen, accept_language=header) == language


def test_times_are_shown_in_east_africa_time() -> None:
    shown = Formats("en").when(datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    assert shown.startswith("Mar 2, 2026") and "1:30:00" in shown and shown.endswith("EAT")
    assert Formats("sw").when("2026-03-01T22:30:00+00:00").endswith("EAT")


def test_the_writing_direction_comes_from_the_locale() -> None:
    assert direction("sw") == "ltr"
    assert direction("ar") == "rtl"  # a right-to-left catalogue needs no code change
