"""Finding a person again without decrypting anyone: blind indexes of normalised identifying fields.

Every index value is a keyed HMAC (the tenant's blind-index key, see vault.py) of one kind of
normalised input, so the database can match equal inputs but an index leaks nothing without the
key, and two tenants' indexes of the same person differ (no linking across tenants).

- `exact`: given and family name tokens (sorted, so order does not matter) plus date of birth.
  A match is the strongest candidate; it links the new referral to the subject at once only in a
  tenant that opts in (the `matching` setting).
- The others find *candidates* (spelling variants, a mistyped date, a missing date of birth, the
  same phone) that a screener confirms or dismisses; they are never merged silently.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

EXACT = "exact"
PHONETIC_DOB = "phonetic_dob"
# Same-sounding name and two of the three parts of the date of birth: one mistyped part still matches.
PHONETIC_YEAR_MONTH = "phonetic_year_month"
PHONETIC_YEAR_DAY = "phonetic_year_day"
PHONETIC_MONTH_DAY = "phonetic_month_day"
PARTIAL_DATES = (PHONETIC_YEAR_MONTH, PHONETIC_YEAR_DAY, PHONETIC_MONTH_DAY)
PHONETIC_NAME = "phonetic_name"
TOKEN_DOB = "token_dob"
PHONE = "phone"

# How much each kind of match says that two records are one person (the token kind counts per token).
# The phonetic kinds with a date imply the same-sounding name, so PHONETIC_NAME adds nothing to them;
# an exact date matches all three partial dates as well, hence their small weight.
WEIGHTS = {PHONETIC_DOB: 3, PHONE: 3, **dict.fromkeys(PARTIAL_DATES, 1), TOKEN_DOB: 1, PHONETIC_NAME: 1}
CANDIDATE_SCORE = 3  # same-sounding name and date of birth; or the same phone
DIGEST_BYTES = 16

_SOUNDEX = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
            "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}
_DIGRAPHS = (("ph", "f"), ("kh", "h"), ("dh", "d"), ("th", "t"))


@dataclass(frozen=True)
class Digest:
    """One blind-index value of a person."""

    kind: str
    value: bytes


def tokens(*names: str | None) -> list[str]:
    """Names as sorted, de-duplicated tokens: accents, case and punctuation removed."""
    found: set[str] = set()
    for name in names:
        if not name:
            continue
        folded = unicodedata.normalize("NFKD", name)
        folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
        folded = folded.replace("'", "").replace("\u2019", "")  # O'Brien and OBrien are one spelling
        found.update(t for t in re.split(r"[^a-z]+", folded) if t)
    return sorted(found)


def phonetic(token: str) -> str:
    """A Soundex variant: the first letter is coded by its sound group too ("Kasim" = "Qasim")."""
    for digraph, sound in _DIGRAPHS:
        token = token.replace(digraph, sound)
    first = token[0]
    code = _SOUNDEX.get(first, "0")  # a name that starts with a vowel, h, w or y
    last = _SOUNDEX.get(first, "")
    for char in token[1:]:
        digit = _SOUNDEX.get(char, "")
        if digit and digit != last:
            code += digit
        if char not in "hw":
            last = digit
        if len(code) == 4:
            break
    return code.ljust(4, "0")


def phone_digits(phone: str | None) -> str | None:
    """The last nine digits of a phone number (the subscriber number, without country or trunk prefix)."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-9:] if len(digits) >= 7 else None


def inputs(
    *, given_name: str, family_name: str, other_names: str | None = None,
    date_of_birth: str | None = None, phone: str | None = None,
) -> list[tuple[str, str]]:
    """The normalised (kind, input) pairs of a person, before keying."""
    core = tokens(given_name, family_name)
    everything = tokens(given_name, family_name, other_names)
    sounds = " ".join(sorted(phonetic(t) for t in core))
    pairs = [(PHONETIC_NAME, sounds)]
    if date_of_birth:
        year, month, day = date_of_birth[:4], date_of_birth[5:7], date_of_birth[8:10]
        pairs += [
            (EXACT, f"{' '.join(core)}|{date_of_birth}"),
            (PHONETIC_DOB, f"{sounds}|{date_of_birth}"),
            (PHONETIC_YEAR_MONTH, f"{sounds}|{year}-{month}-"),
            (PHONETIC_YEAR_DAY, f"{sounds}|{year}--{day}"),
            (PHONETIC_MONTH_DAY, f"{sounds}|-{month}-{day}"),
            *((TOKEN_DOB, f"{token}|{date_of_birth}") for token in everything),
        ]
    number = phone_digits(phone)
    if number:
        pairs.append((PHONE, number))
    return pairs


def digests(key: bytes, person: dict[str, str]) -> list[Digest]:
    """The keyed blind-index values of a person's identifying fields."""
    pairs = inputs(
        given_name=person["given_name"], family_name=person["family_name"],
        other_names=person.get("other_names"), date_of_birth=person.get("date_of_birth"),
        phone=person.get("phone"),
    )
    return [Digest(kind, keyed(key, kind, value)) for kind, value in dict.fromkeys(pairs)]


def probes(digests: list[Digest], *, has_date_of_birth: bool) -> list[Digest]:
    """The digests worth looking up. With a date of birth, a same-sounding name alone never makes a
    candidate, and in a large tenant it matches many people: it is stored, but not probed."""
    if not has_date_of_birth:
        return digests
    return [d for d in digests if d.kind != PHONETIC_NAME]


def keyed(key: bytes, kind: str, value: str) -> bytes:
    """HMAC-SHA256 of one normalised input, truncated to 128 bits."""
    return hmac.new(key, f"{kind}\x1f{value}".encode(), hashlib.sha256).digest()[:DIGEST_BYTES]


def score(kinds: Iterable[str]) -> int:
    """How strongly a set of matching index kinds says two records are one person."""
    kinds = list(kinds)
    return sum(WEIGHTS.get(kind, 0) for kind in kinds) + (5 if EXACT in kinds else 0)


def is_candidate(kinds: Iterable[str], *, has_date_of_birth: bool) -> bool:
    """Whether the matches make another subject worth offering to the screener.

    A same-sounding name with one mistyped part of the date of birth is offered; without a date
    of birth, a same-sounding name is all there is to go on, so it is offered too.
    """
    kinds = list(kinds)
    return (score(kinds) >= CANDIDATE_SCORE or any(kind in PARTIAL_DATES for kind in kinds)
            or (not has_date_of_birth and PHONETIC_NAME in kinds))
