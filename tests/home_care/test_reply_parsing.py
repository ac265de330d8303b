"""Patients' SMS replies: check-ins parsed tolerantly but strictly on values; side effects graded."""
from __future__ import annotations

import pytest

from telehealth.services.home_care.reply_parsing import (
    GRADES,
    SIDE_EFFECT_TABLE,
    NextDayReply,
    ParseError,
    PostSessionReply,
    PreSessionReply,
    SideEffect,
    grade_side_effects,
    parse_mood,
    parse_next_day,
    parse_post_session,
    parse_pre_session,
    parse_sitter,
)
from telehealth.services.messaging.message_content import check_sms_body

# ------------------------------------------------------------------------------------------------
# Pre-session: blood pressure and sitter


@pytest.mark.parametrize("text, systolic, diastolic, sitter", [
    ("128/82 yes", 128, 82, True),
    ("bp 128 / 82, sitter here", 128, 82, True),
    ("128 over 82 Y", 128, 82, True),
    ("It's 128/82 and my sister is with me", 128, 82, True),
    ("yes 131/79", 131, 79, True),
    ("YES 131/79!!", 131, 79, True),
    ("Yesss. 120/80", 120, 80, True),
    ("128\\82 yep", 128, 82, True),
    ("128-82 yeah", 128, 82, True),
    ("BP: 128/82. My husband is here.", 128, 82, True),
    ("128/82 sitter present", 128, 82, True),
    ("128 82 yes", 128, 82, True),  # two bare numbers
    ("１２８/８２ yes", 128, 82, True),  # full-width digits
    ("128/82 pulse 70 yup", 128, 82, True),  # a stray number beside one reading is ignored
    ("128/82 no", 128, 82, False),
    ("128/82 N", 128, 82, False),
    ("128/82 nope", 128, 82, False),
    ("128/82 I'm alone", 128, 82, False),
    ("I'm here alone 120/80", 120, 80, False),
    ("128/82 sitter not here", 128, 82, False),
    ("128/82 she's not here yet", 128, 82, False),
    ("128/82 no one", 128, 82, False),
    ("128/82 nobody with me", 128, 82, None),  # "nobody" and "with me": contradictory, ask again
    ("128/82 no sitter", 128, 82, False),
    ("128/82 by myself", 128, 82, False),
    ("128/82", 128, 82, None),
    ("bp 128/82 thanks", 128, 82, None),
    ("yes but she is not here yet 128/82", 128, 82, None),  # both: not a confirmation
    ("260/160 yes", 260, 160, True),  # range edges accepted; the gates decide what they mean
    ("61/30 yes", 61, 30, True),
    ("185/121 yes", 185, 121, True),
])
def test_pre_session_readings_and_sitter(text, systolic, diastolic, sitter):
    assert parse_pre_session(text) == PreSessionReply(systolic, diastolic, sitter)


# The sitter is confirmed only by a clear present-tense yes. Anything that says the sitter is not there
# YET (future tense, "soon", "on the way", "waiting for", "left"...) must never confirm: a True lets the
# session start.
SITTER_PRESENT = [
    "yes", "y", "Y", "yep", "yeah", "yup", "Yesss", "sure", "sitter here", "my sister is here", "she's with me",
    "he is here", "with me", "here", "my husband is here", "sitter present", "she's here", "sitter's here",
    "she is here now", "she just got here", "she arrived", "my son is here",  # "son" is not "soon"
    "she's been here an hour", "yes I'm here",  # the yes answers "YES if your sitter is with you"
    "she's here, you?",
]
SITTER_ABSENT = [
    # the review's cases
    "nobody's here yet", "she'll be here in 10 min", "waiting for my sitter to get here", "sitter will be here at 5",
    "wife left, I'm here", "on the way", "coming soon", "not yet",
    # future tense, with and without the apostrophe
    "he'll be here soon", "shell be here at 6", "they'll be here", "she will be here", "he's gonna be here",
    "she is going to be here", "sitter should be here any minute", "she's going to come over",
    # not here yet, soon, a time still to come
    "she isn't here yet", "he hasn't arrived", "sitter here in 5", "here in a few minutes", "here at 5",
    "in 10 min", "sooon", "almost here", "nearly there", "about to arrive", "arriving at 6", "running late",
    "she's on her way", "omw", "en route", "she's coming", "coming over now",
    # waiting, left, gone
    "still waiting", "waiting for her", "she left", "he's gone", "she went home", "she had to leave",
    "stepped out for a bit", "sitter cancelled",
    # possessive and contracted no-words
    "no one's here", "noone here", "noones here", "nobody here",
    # the patient speaking of themself, beside a no
    "I'm here alone", "I'm alone", "I'm home alone",
]
SITTER_UNKNOWN = [
    "I'm here",  # the patient, not a sitter
    "i am here", "I'm home", "I'm back", "I just arrived",
    "", "thanks", "ok", "maybe", "probably", "I think she's here", "hopefully",
    # contradictory: ask again
    "yes but she is not here yet", "yes, she's on the way", "yes she will be here at 5", "yep, not yet",
    "nobody with me", "nobody's with me yet",  # "with me" reads as a yes beside the no
    "yes, here in 10",
]


@pytest.mark.parametrize("text", SITTER_PRESENT)
def test_a_clear_present_tense_yes_confirms_the_sitter(text):
    assert parse_sitter(text) is True


@pytest.mark.parametrize("text", SITTER_ABSENT)
def test_a_sitter_not_there_yet_is_absent(text):
    assert parse_sitter(text) is False


@pytest.mark.parametrize("text", SITTER_UNKNOWN)
def test_the_patient_alone_unsure_or_contradictory_is_unknown(text):
    assert parse_sitter(text) is None


@pytest.mark.parametrize("text", SITTER_ABSENT + SITTER_UNKNOWN)
def test_not_there_yet_never_confirms_inside_the_pre_session_reply(text):
    # parse_pre_session reads the sitter from what is left beside the reading, before or after it
    for reply in (f"128/82 {text}", f"{text} 128/82"):
        assert parse_pre_session(reply) == PreSessionReply(128, 82, parse_sitter(text)), reply
        assert parse_pre_session(reply).sitter_present is not True, reply


@pytest.mark.parametrize("text", SITTER_ABSENT)
def test_a_yes_beside_not_there_yet_is_contradictory(text):
    assert parse_sitter(f"yes, {text}") is None
    assert parse_pre_session(f"128/82 {text}, yes") == PreSessionReply(128, 82, None)


@pytest.mark.parametrize("text", SITTER_PRESENT)
def test_a_clear_yes_confirms_inside_the_pre_session_reply(text):
    assert parse_pre_session(f"128/82 {text}") == PreSessionReply(128, 82, True)


@pytest.mark.parametrize("text, code", [
    ("", "no_reading"),
    ("yes", "no_reading"),
    ("my sitter is here", "no_reading"),
    ("128 yes", "no_reading"),
    ("128.5/82 yes", "not_whole_numbers"),
    ("128/82.5 yes", "not_whole_numbers"),
    ("128/82 and 130/85", "several_readings"),
    ("128/82 then 125 over 80 yes", "several_readings"),
    ("82/128 yes", "implausible_reading"),  # diastolic first
    ("120/120 yes", "implausible_reading"),  # systolic must be above diastolic
    ("59/40 yes", "implausible_reading"),
    ("261/100 yes", "implausible_reading"),
    ("120/29 yes", "implausible_reading"),
    ("200/161 yes", "implausible_reading"),
    ("1280/82", "implausible_reading"),
    ("12 8 82", "no_reading"),  # three numbers: not a reading
])
def test_pre_session_refusals_carry_a_short_non_clinical_hint(text, code):
    result = parse_pre_session(text)
    assert isinstance(result, ParseError)
    assert result.code == code
    check_sms_body(result.reply_hint)
    assert "128/82" in result.reply_hint


def test_the_missing_reading_hint_is_the_check_in_wording():
    assert parse_pre_session("hello").reply_hint == (
        "Please reply with your reading like 128/82 and YES if your sitter is with you.")


def test_two_readings_hint_asks_for_one():
    assert "one reading" in parse_pre_session("128/82 130/84 yes").reply_hint


# ------------------------------------------------------------------------------------------------
# Mood


@pytest.mark.parametrize("text, mood", [
    ("7", 7), ("mood 7", 7), ("Mood: 7", 7), ("7/10", 7), ("7 / 10", 7), ("7 out of 10", 7), ("seven", 7),
    ("Seven!", 7), ("I'm a 6", 6), ("im a 6 today", 6), ("1", 1), ("10", 10), ("10/10", 10), ("ten", 10),
    ("one", 1), ("a solid 8", 8), ("8 8", 8), (" 5 ", 5),
])
def test_mood_accepted(text, mood):
    assert parse_mood(text) == mood


@pytest.mark.parametrize("text, code", [
    ("0", "out_of_range"), ("11", "out_of_range"), ("mood 0", "out_of_range"), ("100", "out_of_range"),
    ("7.5", "not_whole_number"), ("7.5/10", "not_whole_number"), ("", "missing_score"), ("good", "missing_score"),
    ("6 or 7", "several_numbers"), ("6-7", "several_numbers"), ("six or seven", "several_numbers"),
])
def test_mood_refused(text, code):
    result = parse_mood(text)
    assert isinstance(result, ParseError) and result.code == code
    assert result.reply_hint == "Please reply with one whole number from 1 to 10."


# ------------------------------------------------------------------------------------------------
# After the session, and the next day


@pytest.mark.parametrize("text, mood, effects", [
    ("7 none", 7, ()),
    ("7", 7, ()),  # nothing reported
    ("mood 6, a bit dizzy", 6, (SideEffect("dizziness", "mild"),)),
    ("8/10 nausea", 8, (SideEffect("nausea", "mild"),)),
    ("seven, headache", 7, (SideEffect("headache", "mild"),)),
    ("headache, mood 6", 6, (SideEffect("headache", "mild"),)),
    ("5 threw up twice", 5, (SideEffect("vomiting", "moderate"),)),
    ("4 chest pain", 4, (SideEffect("chest_pain", "serious"),)),
    ("9 no side effects", 9, ()),
])
def test_post_session(text, mood, effects):
    assert parse_post_session(text) == PostSessionReply(mood, effects)


@pytest.mark.parametrize("text, code", [
    ("none", "missing_score"), ("0 none", "out_of_range"), ("11 nausea", "out_of_range"),
    ("7.5 none", "not_whole_number"),
])
def test_post_session_refused(text, code):
    result = parse_post_session(text)
    assert isinstance(result, ParseError) and result.code == code
    check_sms_body(result.reply_hint)


@pytest.mark.parametrize("text, mood, sleep, effects", [
    ("mood 7 sleep 6 none", 7, 6, ()),
    ("7, 5, a bit nauseous", 7, 5, (SideEffect("nausea", "mild"),)),
    ("Mood: 8. Slept 9. headache", 8, 9, (SideEffect("headache", "mild"),)),
    ("sleep 5 mood 7", 7, 5, ()),
    ("7 6", 7, 6, ()),
    ("7/10 6/10 none", 7, 6, ()),
    ("seven six none", 7, 6, ()),
    ("mood 7, slept 4, dizzy and tired", 7, 4, (SideEffect("dizziness", "mild"), SideEffect("tiredness", "mild"))),
    ("7, 5, threw up 3 times", 7, 5, (SideEffect("vomiting", "moderate"),)),
    ("slept great, 7 6", 7, 6, ()),
    ("7 5 no headache or dizziness, just tired", 7, 5, (SideEffect("tiredness", "mild"),)),
    ("MOOD 10 SLEEP 10 NONE", 10, 10, ()),
])
def test_next_day(text, mood, sleep, effects):
    assert parse_next_day(text) == NextDayReply(mood, sleep, effects)


@pytest.mark.parametrize("text, code", [
    ("7", "missing_score"), ("mood 7 headache", "missing_score"), ("", "missing_score"),
    ("slept 7 hours mood 6", "sleep_hours"), ("7 8hrs", "sleep_hours"), ("mood 7 sleep 11", "out_of_range"),
    ("mood 0 sleep 5", "out_of_range"), ("7 5.5 none", "not_whole_number"),
])
def test_next_day_refused(text, code):
    result = parse_next_day(text)
    assert isinstance(result, ParseError) and result.code == code
    check_sms_body(result.reply_hint)


# ------------------------------------------------------------------------------------------------
# Side effects


def test_the_table_is_well_formed():
    names = [name for name, _, _ in SIDE_EFFECT_TABLE]
    assert len(names) == len(set(names)) and "unrecognized" not in names
    assert all(grade in GRADES for _, grade, _ in SIDE_EFFECT_TABLE)


@pytest.mark.parametrize("name, grade, phrasings", SIDE_EFFECT_TABLE, ids=[row[0] for row in SIDE_EFFECT_TABLE])
def test_every_phrasing_of_the_table_is_graded_as_listed(name, grade, phrasings):
    for phrasing in phrasings:
        effects = grade_side_effects(phrasing)
        assert effects and effects[0].name == name and effects[0].grade == grade, (phrasing, effects)


@pytest.mark.parametrize("text", [
    "", "none", "None.", "no", "nope", "nothing", "no side effects", "No side effects!", "n/a", "all good",
    "felt fine", "nothing unusual, thanks", "none at all",
])
def test_nothing_reported(text):
    assert grade_side_effects(text) == []


@pytest.mark.parametrize("text, expected", [
    # mild
    ("nausea", [("nausea", "mild")]),
    ("a bit nauseous", [("nausea", "mild")]),
    ("nausious", [("nausea", "mild")]),
    ("nauseus", [("nausea", "mild")]),
    ("dizzy", [("dizziness", "mild")]),
    ("dizzzy", [("dizziness", "mild")]),
    ("diziness", [("dizziness", "mild")]),
    ("headache", [("headache", "mild")]),
    ("head ache", [("headache", "mild")]),
    ("headach", [("headache", "mild")]),
    ("tired", [("tiredness", "mild")]),
    ("so tierd", [("tiredness", "moderate")]),  # misspelt, and "so" in front
    ("dissociation felt mild", [("dissociation", "mild")]),
    ("a little dissociated", [("dissociation", "mild")]),
    # an intensifier before a mild effect makes it moderate
    ("severe headache", [("headache", "moderate")]),
    ("really bad nausea", [("nausea", "moderate")]),
    # moderate
    ("vomiting", [("vomiting", "moderate")]),
    ("vomitting", [("vomiting", "moderate")]),
    ("threw up", [("vomiting", "moderate")]),
    ("strong anxiety", [("panic", "moderate")]),
    ("panic attack", [("panic", "moderate")]),
    ("confusion lasting all day", [("confusion", "moderate")]),
    ("racing heart", [("racing_heart", "moderate")]),
    ("my heart is racing", [("racing_heart", "moderate")]),
    ("felt like high blood pressure", [("high_blood_pressure", "moderate")]),
    ("burning when I pee", [("urinary", "moderate")]),
    # serious
    ("chest pain", [("chest_pain", "serious")]),
    ("chestpain", [("chest_pain", "serious")]),
    ("CHEST PAINS", [("chest_pain", "serious")]),
    ("fainted", [("fainting", "serious")]),
    ("I passed out", [("fainting", "serious")]),
    ("can't breathe", [("breathing_trouble", "serious")]),
    ("trouble breathing", [("breathing_trouble", "serious")]),
    ("seizure", [("seizure", "serious")]),
    ("severe confusion", [("severe_confusion", "serious")]),
    ("hallucinations that won't stop", [("persistent_hallucinations", "serious")]),
    ("bleeding", [("bleeding", "serious")]),
    ("blood in my pee", [("bleeding", "serious")]),
    ("he is unresponsive", [("unresponsive", "serious")]),
    ("slurred speech", [("stroke_signs", "serious")]),
    # several, in order of mention, one per name at its highest grade
    ("nausea, dizziness and a headache", [("nausea", "mild"), ("dizziness", "mild"), ("headache", "mild")]),
    ("headache then chest pain", [("headache", "mild"), ("chest_pain", "serious")]),
    ("tired, then very tired", [("tiredness", "moderate")]),
    # negation removes mild and moderate effects, never serious ones
    ("no nausea", []),
    ("didn't throw up", []),
    ("no headache or dizziness, just tired", [("tiredness", "mild")]),
    ("no nausea but a headache", [("headache", "mild")]),
    ("no chest pain", [("chest_pain", "serious")]),
    ("not breathing right", [("breathing_trouble", "serious")]),
    # anything the table does not know is read by a clinician
    ("my leg went numb and purple", [("numbness", "mild"), ("unrecognized", "moderate")]),
    ("weird rash on my arm", [("unrecognized", "moderate")]),
    ("ringing in ears", [("unrecognized", "moderate")]),
    ("headache and a weird rash", [("headache", "mild"), ("unrecognized", "moderate")]),
])
def test_grading(text, expected):
    assert grade_side_effects(text) == [SideEffect(name, grade) for name, grade in expected]
