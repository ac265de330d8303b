"""What the API accepts as text: ASCII digits where digits are meant, no NUL anywhere (screening
answers included), and no invisible direction or zero-width marks in names, addresses and notes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from telehealth.models import Assessment, User
from tests.conftest import _npi, error_of
from tests.screening_data import valid_screening_answers
from tests.accounts.test_admin import PHYSICIAN
from tests.accounts.test_auth import SIGNUP, signup_body

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _refused(r, field: str) -> dict:
    assert r.status_code == 422, r.get_json()
    error = error_of(r)
    assert field in error["fields"], error
    return error


def _users(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


# --------------------------------------------------------------------------- ASCII digits only


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULL_WIDTH], ids=["arabic-indic", "full-width"])
def test_a_zip_code_is_ascii_digits(client, db, digits):
    address = {**SIGNUP["shipping_address"], "postal_code": "10016".translate(digits)}
    before = _users(db)
    _refused(client.post("/api/v1/auth/signup", json=signup_body(shipping_address=address)),
             "shipping_address.postal_code")
    address = {**SIGNUP["shipping_address"], "postal_code": "10016-1234".translate(digits)[:6] + "1234"}
    _refused(client.post("/api/v1/auth/signup", json=signup_body(shipping_address=address)),
             "shipping_address.postal_code")
    assert _users(db) == before


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULL_WIDTH], ids=["arabic-indic", "full-width"])
def test_a_phone_number_is_ascii_digits(client, db, digits):
    # phonenumbers itself reads these digits as 0-9: the schema must refuse them first
    error = _refused(client.post("/api/v1/auth/signup", json=signup_body(phone="2125550123".translate(digits))),
                     "phone")
    assert "0-9" in error["fields"]["phone"][0]
    contact = {**SIGNUP["emergency_contact"], "phone": "+1 646 555 0199".translate(digits)}
    _refused(client.post("/api/v1/auth/signup", json=signup_body(emergency_contact=contact)),
             "emergency_contact.phone")


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULL_WIDTH], ids=["arabic-indic", "full-width"])
def test_npi_and_dea_numbers_are_ascii_digits(client, auth, db, digits):
    auth.as_role("admin")
    _refused(client.post("/api/v1/admin/staff", json={**PHYSICIAN, "npi": _npi(778).translate(digits)}), "npi")
    _refused(client.post("/api/v1/admin/staff", json={**PHYSICIAN, "dea_number": "AB" + "1234563".translate(digits)}),
             "dea_number")
    r = client.post("/api/v1/admin/staff", json={**PHYSICIAN, "npi": _npi(778)})
    assert r.status_code == 201, r.get_json()


def test_an_id_in_the_url_is_ascii_digits(client, auth):
    me = auth.as_role("patient")
    assert client.get(f"/api/v1/patients/{me.id}").status_code == 200
    for digits in (ARABIC_INDIC, FULL_WIDTH):
        assert client.get(f"/api/v1/patients/{str(me.id).translate(digits)}").status_code == 404


def test_a_timeline_cursor_is_ascii_digits(client, auth):
    me = auth.as_role("patient")
    r = client.get(f"/api/v1/patients/{me.id}/timeline", query_string={"before": "١٢.screening.٣"})
    _refused(r, "before")


# --------------------------------------------------------------------------- NUL


def test_nul_is_refused_inside_screening_answers(client, db):
    answers = valid_screening_answers()
    answers["treatment_history"]["antidepressant_trials"][0]["name"] = "sert\x00raline"
    r = client.post("/api/v1/assessments", json={"questionnaire": "screening", "version": 1, "answers": answers})
    error = _refused(r, "answers")
    assert "NUL" in error["fields"]["answers"][0]
    keyed = valid_screening_answers()
    keyed["medical"]["x\x00"] = True
    _refused(client.post("/api/v1/assessments", json={"questionnaire": "screening", "version": 1, "answers": keyed}),
             "answers")
    assert db.session.scalar(select(func.count()).select_from(Assessment)) == 0


def test_nul_is_refused_inside_a_list_of_texts(client, auth):
    auth.as_role("patient")
    r = client.post("/api/v1/me/sessions/1/check-ins/post", json={"mood": 5, "side_effects": ["nau\x00sea"]})
    _refused(r, "side_effects.0")


# --------------------------------------------------------------------------- invisible marks

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


@pytest.mark.parametrize("mark", BIDI + ZERO_WIDTH, ids=lambda m: f"U+{ord(m):04X}")
def test_names_and_addresses_refuse_invisible_marks(client, db, mark):
    before = _users(db)
    _refused(client.post("/api/v1/auth/signup", json=signup_body(legal_last_name=f"New{mark}")), "legal_last_name")
    _refused(client.post("/api/v1/auth/signup", json=signup_body(legal_first_name=f"{mark}Riley")),
             "legal_first_name")
    address = {**SIGNUP["shipping_address"], "line1": f"1 Park{mark} Ave"}
    if mark in ("\u200c", "\u200d"):
        address["line1"] = f"1 Park {mark}Ave"  # a joiner beside a space joins nothing
    _refused(client.post("/api/v1/auth/signup", json=signup_body(shipping_address=address)),
             "shipping_address.line1")
    contact = {**SIGNUP["emergency_contact"], "name": f"Sam{mark}"}
    _refused(client.post("/api/v1/auth/signup", json=signup_body(emergency_contact=contact)),
             "emergency_contact.name")
    assert _users(db) == before


def test_a_joiner_inside_a_word_is_part_of_the_name(client):
    # Persian writes some names with a zero-width non-joiner between two letters: that is kept.
    r = client.post("/api/v1/auth/signup", json=signup_body(legal_last_name="\u0645\u06cc\u200c\u0631\u0627\u0646"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["patient"]["legal_last_name"] == "\u0645\u06cc\u200c\u0631\u0627\u0646"


@pytest.mark.parametrize("mark", ["\u202e", "\u2067", "\u200b", "\ufeff"], ids=lambda m: f"U+{ord(m):04X}")
def test_notes_refuse_invisible_marks(client, auth, create_user, mark):
    auth.as_role("patient")
    r = client.post("/api/v1/me/sessions", json={"scheduled_for": "2030-01-01T15:00:00Z",
                                                 "sitter_name": f"Sam{mark}Sitter", "sitter_phone": "2125550123"})
    _refused(r, "sitter_name")
    auth.as_role("physician")
    patient = create_user("patient")
    _refused(client.post(f"/api/v1/patients/{patient.id}/pause", json={"reason": f"Low{mark} mood"}), "reason")


def test_every_free_text_field_of_a_request_uses_the_one_text_type(app):
    """Names, addresses and notes: every such field of every request body carries the shared validator."""
    from pydantic import BaseModel

    from telehealth.api import Schema
    from telehealth.schemas.common import _plain_lines, _plain_text

    free_text = {"name", "first_name", "last_name", "display_name", "line1", "line2", "city", "relationship",
                 "practice", "note", "notes", "private_note", "patient_summary", "reason", "message",
                 "message_to_patient", "bio", "directions", "description", "sitter_name", "signature_name",
                 "recipient_name", "recipient_organization", "legal_first_name", "legal_last_name",
                 "side_effects", "license_number"}

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    def validators(annotation) -> list:
        found = []
        for meta in getattr(annotation, "__metadata__", ()):
            found.append(getattr(meta, "func", None))
        for arg in getattr(annotation, "__args__", ()):
            found.extend(validators(arg))
        return found

    missing = []
    for model in subclasses(Schema):
        if model.__name__.endswith("Out") or not issubclass(model, BaseModel):
            continue
        for name, field in model.model_fields.items():
            if name not in free_text or "str" not in str(field.annotation):
                continue
            funcs = [getattr(m, "func", None) for m in field.metadata] + validators(field.annotation)
            if _plain_text not in funcs and _plain_lines not in funcs:
                missing.append(f"{model.__name__}.{name}")
    assert missing == []


# --------------------------------------------------------------------------- by Unicode category (issue 12)

# Controls (ESC, BEL), direction marks LRM/RLM and the Arabic letter mark, the Mongolian vowel
# separator, a tag character, interlinear annotation, soft hyphen, private use, unassigned.
HIDDEN_MORE = ["\x1b", "\x07", "\x7f", "\u200e", "\u200f", "\u061c", "\u180e", "\U000e0041", "\ufff9", "\ufffb",
               "\u00ad", "\ue000", "\U000f0000", "\u0378"]
FILLERS = ["\u3164", "\u115f", "\u1160", "\uffa0"]


@pytest.mark.parametrize("mark", HIDDEN_MORE, ids=lambda m: f"U+{ord(m):04X}")
def test_names_refuse_controls_and_every_format_or_unassigned_character(client, db, mark):
    before = _users(db)
    _refused(client.post("/api/v1/auth/signup", json=signup_body(legal_last_name=f"Sm{mark}ith")), "legal_last_name")
    address = {**SIGNUP["shipping_address"], "city": f"Spring{mark}field"}
    _refused(client.post("/api/v1/auth/signup", json=signup_body(shipping_address=address)),
             "shipping_address.city")
    assert _users(db) == before


@pytest.mark.parametrize("filler", FILLERS + ["\u3164\u3164", " \u115f ", "\u00ad"], ids=repr)
def test_a_name_made_only_of_fillers_is_refused(client, db, filler):
    _refused(client.post("/api/v1/auth/signup", json=signup_body(legal_first_name=filler)), "legal_first_name")


def test_notes_may_have_lines_and_tabs_but_names_may_not(client, auth, create_user):
    from telehealth.schemas.common import text

    from pydantic import TypeAdapter
    note, name = TypeAdapter(text(2000)), TypeAdapter(text(100))
    assert note.validate_python("First line\n\tsecond line\r\nthird") == "First line\n\tsecond line\r\nthird"
    for bad in ("Riley\nSmith", "Riley\tSmith"):
        with pytest.raises(ValueError):
            name.validate_python(bad)
    with pytest.raises(ValueError):
        note.validate_python("a note with \x1b[31m colour")
    # a Korean name with real Hangul letters stays accepted, and so do joiners after a mark: a
    # Devanagari half-form (consonant, virama, ZWJ) and an emoji with a variation selector
    for kept in ("\ud55c\uc9c0\ubbfc", "\u0915\u094d\u200d\u0937", "\u2764\ufe0f\u200d\U0001f525"):
        assert name.validate_python(kept) == kept
    with pytest.raises(ValueError):
        name.validate_python("\u0301\u0301")  # marks alone


@pytest.mark.parametrize("number", ["CO\u202e123", "\u0661\u0662\u0663\u0664\u0665", "12\u200b345", "IL_1", "IL\x1b1"],
                         ids=repr)
def test_license_numbers_are_ascii_letters_digits_and_separators(client, auth, db, number):
    auth.as_role("admin")
    licenses = [{"state": "IL", "license_number": number, "expires_on": "2030-06-30"}]
    r = client.post("/api/v1/admin/staff", json={**PHYSICIAN, "licenses": licenses})
    _refused(r, "licenses.0.license_number")


def test_a_license_number_with_hyphen_dot_slash_and_space_is_kept(client, auth):
    auth.as_role("admin")
    licenses = [{"state": "IL", "license_number": "036.1234/A-7 B", "expires_on": "2030-06-30"}]
    r = client.post("/api/v1/admin/staff", json={**PHYSICIAN, "licenses": licenses})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["physician"]["licenses"][0]["license_number"] == "036.1234/A-7 B"


@pytest.mark.parametrize("email", ["x\u202e@example.com", "x\u200b@example.com", "not-an-email", "x\x1b@example.com"],
                         ids=repr)
def test_the_mental_health_provider_email_is_an_email_everywhere(client, auth, db, email):
    provider = {"name": "Dr. Kim", "email": email}
    _refused(client.post("/api/v1/auth/signup", json=signup_body(mental_health_provider=provider)),
             "mental_health_provider.email")
    auth.as_role("patient")
    _refused(client.patch("/api/v1/me", json={"mental_health_provider": provider}), "mental_health_provider.email")


def test_side_effects_free_text_is_plain_text(client, auth):
    auth.as_role("patient")
    r = client.post("/api/v1/me/sessions/1/check-ins/post", json={"mood": 5, "side_effects": ["nau\u202esea"]})
    _refused(r, "side_effects.0")


@pytest.mark.parametrize("phone", ["2125550123\x00", "212555\x000123", "2125550123\x1b"], ids=repr)
def test_a_phone_number_with_a_control_character_is_refused_not_stripped(client, db, phone):
    before = _users(db)
    _refused(client.post("/api/v1/auth/signup", json=signup_body(phone=phone)), "phone")
    assert _users(db) == before
