"""Field types shared by request bodies: US states, time zones, phone numbers, NPI and DEA numbers,
and `PlainText`, the one type of every free-text field a person reads back (names, addresses, notes).

Digits are ASCII digits only: `\\d` and `str.isdigit()` also accept Arabic-Indic, full-width and
other Unicode digits, so patterns say `[0-9]` and checks say `_ascii_digits`."""
from __future__ import annotations

import re
import unicodedata
from typing import Annotated

import phonenumbers
from datetime import datetime, time, timezone

from pydantic import AfterValidator, AwareDatetime, EmailStr, Field, StringConstraints, WithJsonSchema

from telehealth.api import Schema
from telehealth.clock import is_valid_zone

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
)
# Each state's name, for the portal's choices (a person picks "New York", the API takes "NY").
US_STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming",
}


def _state(value: str) -> str:
    value = value.upper()
    if value not in US_STATES:
        raise ValueError("Use a two-letter US state code, such as NY")
    return value


def _zone(value: str) -> str:
    if not is_valid_zone(value):
        raise ValueError("Use an IANA time zone name, such as America/New_York")
    return value


def e164_phone(value: str) -> str:
    """A US or international phone number in E.164 (+12125550100); ValueError, in words for the
    person typing it, when it is not one."""
    if not value.isascii():  # phonenumbers would read Arabic-Indic or full-width digits as 0-9
        raise ValueError("Enter the number with the digits 0-9, such as +1 212 555 0100")
    if not value.isprintable():  # phonenumbers would drop a NUL or ESC silently: refused, not stripped
        raise ValueError("Remove the control character from the phone number")
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a phone number, such as +1 212 555 0100") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This phone number is not valid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def _ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _npi(value: str) -> str:
    # An NPI is 10 digits whose check digit is the Luhn digit of "80840" + the first nine.
    if len(value) != 10 or not _ascii_digits(value) or not luhn_ok("80840" + value):
        raise ValueError("Not a valid 10-digit NPI")
    return value


def _dea(value: str) -> str:
    value = value.upper()
    if len(value) != 9 or not value.isascii() or not value[:2].isalpha() or not _ascii_digits(value[2:]):
        raise ValueError("A DEA number is two letters and seven digits")
    d = [int(c) for c in value[2:]]
    if (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 != d[6]:
        raise ValueError("The DEA number's check digit does not match")
    return value


# What a person reads back must be what is stored, so text is judged by Unicode category rather
# than by a list of known tricks:
# - controls (Cc: NUL, ESC, BEL, DEL...) are refused; a multi-line note may hold line breaks and
#   tabs (\n, \r, \t), nothing else;
# - format characters (Cf: bidirectional embeddings, overrides, isolates and marks LRM/RLM/ALM,
#   zero-width space, word joiner, BOM, soft hyphen, tag characters, interlinear annotation, the
#   Mongolian vowel separator...) are refused, except the zero-width non-joiner and joiner (U+200C,
#   U+200D), which are part of how some scripts and emoji are written (Persian names, Devanagari
#   conjuncts): accepted between two visible characters and refused anywhere else;
# - private-use, surrogate and unassigned code points (Co, Cs, Cn) are refused;
# - a value made only of spaces, fillers (Hangul fillers, the Braille blank) and marks is refused,
#   so a name cannot look empty.
# Refused with a field error rather than silently stripped, so what is stored is exactly what the
# person typed.
_JOINERS = frozenset("\u200c\u200d")
_LINE_CONTROLS = frozenset("\n\r\t")
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zs", "Zl", "Zp"})


def _check_text(value: str, *, multiline: bool) -> str:
    for i, ch in enumerate(value):
        category = unicodedata.category(ch)
        if category == "Cc":
            if not (multiline and ch in _LINE_CONTROLS):
                raise ValueError(f"Remove the control character U+{ord(ch):04X}")
        elif category == "Cf":
            if ch not in _JOINERS:
                raise ValueError(f"Remove the invisible character U+{ord(ch):04X} (a direction, format or "
                                 "zero-width mark)")
            if not (0 < i < len(value) - 1 and _visible(value[i - 1]) and _visible(value[i + 1])):
                raise ValueError(f"Remove the invisible character U+{ord(ch):04X} (a zero-width joiner)")
        elif category in ("Co", "Cs", "Cn"):
            raise ValueError(f"Remove the character U+{ord(ch):04X} (private use or not a character)")
    # marks (a virama, a variation selector) are visible beside a letter, not on their own
    if value and not any(_visible(ch) and unicodedata.category(ch) not in ("Mn", "Me") for ch in value):
        raise ValueError("Enter visible text, not only blank or invisible characters")
    return value


def _plain_text(value: str) -> str:
    return _check_text(value, multiline=False)


def _plain_lines(value: str) -> str:
    return _check_text(value, multiline=True)


def _visible(ch: str) -> bool:
    return ch not in _FILLERS and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES


# The one type of free text a person reads back: names, addresses (one line each) and notes
# (`PlainLines`: several lines), each with its own length.
PlainText = Annotated[str, AfterValidator(_plain_text)]
PlainLines = Annotated[str, AfterValidator(_plain_lines)]
# Text of this length or more is a note, written on several lines.
MULTILINE_FROM = 1000


def text(max_length: int, *, min_length: int = 1) -> type[str]:
    """A `PlainText` field of `min_length` to `max_length` characters (after stripping); from
    `MULTILINE_FROM` characters on, a multi-line note (`PlainLines`)."""
    check = _plain_lines if max_length >= MULTILINE_FROM else _plain_text
    # the lengths first: a person reads "Use at most 2000 characters" (api.field_errors), not pydantic's
    # "Value should have at most 2000 items after validation" of a constraint put after a validator
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(check)]


# Row ids: positive and within a 32-bit INTEGER column, so a crafted id is a 4xx, never a database error.
MAX_DB_ID = 2**31 - 1
DbId = Annotated[int, Field(gt=0, le=MAX_DB_ID)]
# A moment from a client: aware, and bounded so no date arithmetic or storage can overflow.
Moment = Annotated[AwareDatetime, Field(ge=datetime(2000, 1, 1, tzinfo=timezone.utc),
                                        le=datetime(2100, 1, 1, tzinfo=timezone.utc))]


def _wall_time(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("Give a wall-clock time without an offset: it is read in the provider's own zone")
    return value


WallTime = Annotated[time, AfterValidator(_wall_time)]
Text100 = text(100)
Text200 = text(200)
State = Annotated[str, StringConstraints(min_length=2, max_length=2), AfterValidator(_state)]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_zone)]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(e164_phone)]
Npi = Annotated[str, AfterValidator(_npi)]
Dea = Annotated[str, AfterValidator(_dea)]
# A state license number: ASCII letters and digits with hyphen, dot, slash or space between them.
LicenseNumber = Annotated[PlainText, StringConstraints(min_length=1, max_length=40,
                                                       pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9./ -]*[A-Za-z0-9])?$")]
Password = Annotated[str, StringConstraints(max_length=256, strip_whitespace=False)]
_ZIP = r"^[0-9]{5}(-[0-9]{4})?$"


def _postal_code(value: str) -> str:
    # Python's [0-9] is ASCII only, like the documented pattern; the message is for the person typing
    if not re.fullmatch(_ZIP, value):
        raise ValueError("Enter a 5-digit ZIP code, such as 10016 (or ZIP+4, such as 10016-1234)")
    return value


PostalCode = Annotated[str, AfterValidator(_postal_code), WithJsonSchema({"type": "string", "pattern": _ZIP})]


class Address(Schema):
    line1: Text200
    line2: text(200, min_length=0) = ""
    city: Text100
    state: State
    postal_code: PostalCode


class EmergencyContact(Schema):
    name: Text100
    relationship: Text100
    phone: Phone


class MentalHealthProvider(Schema):
    name: Text100
    practice: text(200, min_length=0) = ""
    phone: Phone | None = None
    email: EmailStr | None = None  # the type of a release's recipient email: no invisible characters

