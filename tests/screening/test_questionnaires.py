"""Questionnaire definitions (loading, the definition check) and answer validation."""
from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest

from telehealth.questionnaires import (
    DefinitionError,
    get_questionnaire,
    latest_version,
    load_definitions,
    missing_sections,
    parse_instrument,
    parse_questionnaire,
    public_definition,
    questionnaire_ids,
    validate_answers,
)
from tests.screening_data import gad7_answers, phq9_answers, valid_screening_answers

TODAY = date(2025, 6, 15)


@pytest.fixture(scope="module")
def screening():
    return get_questionnaire("screening", 1)


def check(q, answers, partial=False):
    return validate_answers(q, answers, today=TODAY, partial=partial)


def errors_of(q, answers, partial=False):
    return check(q, answers, partial)[1]


# --------------------------------------------------------------------------- the registry


def test_registry_lists_the_questionnaires_and_their_versions():
    assert questionnaire_ids() == ["gad7", "phq9", "screening"]
    assert {qid: latest_version(qid) for qid in questionnaire_ids()} == {"gad7": 1, "phq9": 1, "screening": 1}
    with pytest.raises(KeyError):
        latest_version("nope")
    with pytest.raises(KeyError):
        get_questionnaire("screening", 2)
    with pytest.raises(KeyError):
        get_questionnaire("medical_screen", 1)  # an instrument, not a questionnaire by itself


def test_screening_sections_and_question_ids(screening):
    sections = {s.id: [q.id for q in s.questions] for s in screening.sections}
    assert sections == {
        "treatment_history": ["antidepressant_trials", "therapy_tried"],
        "phq9": [f"q{i}" for i in range(1, 10)],
        "gad7": [f"q{i}" for i in range(1, 8)],
        "cssrs": ["q1", "q2", "q3", "q4", "q5", "q6", "q6_recent"],
        "medical": ["date_of_birth", "state_of_residence", "pregnant_or_breastfeeding", "psychosis_history",
                    "mania_or_bipolar_history", "mood_stabilizer", "active_substance_use_disorder", "hypertension",
                    "blood_pressure", "vascular_history", "raised_intracranial_pressure", "heart_disease",
                    "liver_disease", "bladder_symptoms", "current_medications", "other_medications"],
    }
    assert all(s.required for s in screening.sections)
    assert screening.section("cssrs").instrument == "cssrs_screener"
    assert screening.section("medical").instrument == "medical_screen"


def test_instrument_questions_are_shared_by_reference(screening):
    assert screening.section("phq9").questions == get_questionnaire("phq9", 1).sections[0].questions
    assert screening.section("gad7").questions == get_questionnaire("gad7", 1).sections[0].questions


@pytest.mark.parametrize("qid, count", [("phq9", 9), ("gad7", 7)])
def test_standalone_scales_have_one_section_named_after_them_with_published_wording(qid, count):
    q = get_questionnaire(qid, 1)
    assert [s.id for s in q.sections] == [qid]
    section = q.sections[0]
    assert section.instrument == qid and len(section.questions) == count
    assert section.preamble.startswith("Over the last 2 weeks, how often have you been bothered by")
    for question in section.questions:
        assert question.type == "choice"
        assert [(o.value, o.label) for o in question.options] == [
            (0, "Not at all"), (1, "Several days"), (2, "More than half the days"), (3, "Nearly every day")]


def test_published_wording_of_key_items(screening):
    phq9 = screening.section("phq9")
    assert phq9.question("q1").text == "Little interest or pleasure in doing things"
    assert phq9.question("q9").text == "Thoughts that you would be better off dead or of hurting yourself in some way"
    assert screening.section("gad7").question("q7").text == "Feeling afraid, as if something awful might happen"
    cssrs = screening.section("cssrs")
    assert cssrs.question("q1").text == ("Have you wished you were dead or wished you could go to sleep and "
                                         "not wake up?")
    assert cssrs.question("q6").text == ("Have you ever done anything, started to do anything, or prepared to do "
                                         "anything to end your life?")
    assert cssrs.question("q6_recent").text == "Was this within the past 3 months?"
    for qid in ("q3", "q4", "q5"):
        assert cssrs.question(qid).required_if.question == "q2"
        assert cssrs.question(qid).required_if.equals is True


def test_public_definition_is_json_and_complete(screening):
    body = json.loads(json.dumps(public_definition(screening)))
    assert (body["id"], body["version"]) == ("screening", 1)
    assert [s["id"] for s in body["sections"]] == ["treatment_history", "phq9", "gad7", "cssrs", "medical"]
    medical = {q["id"]: q for q in body["sections"][4]["questions"]}
    assert medical["blood_pressure"]["required"] is False
    assert medical["blood_pressure"]["systolic"] == {"min": 50, "max": 300}
    assert medical["mood_stabilizer"]["required_if"] == {"question": "mania_or_bipolar_history", "equals": True}
    assert [o["value"] for o in medical["hypertension"]["options"]] == ["none", "controlled", "uncontrolled"]
    trials = body["sections"][0]["questions"][0]
    assert trials["max_items"] == 20
    assert [f["id"] for f in trials["fields"]] == ["name", "weeks", "adequate_dose"]
    assert body["sections"][1]["questions"][0]["options"][3] == {"value": 3, "label": "Nearly every day"}


# --------------------------------------------------------------------------- the definition check


def _instrument(**changes):
    data = {"kind": "instrument", "id": "demo", "version": 1, "title": "Demo", "standalone": True,
            "questions": [{"id": "a", "type": "boolean", "text": "A?"},
                          {"id": "b", "type": "integer", "min": 0, "max": 5, "text": "B?"}]}
    data.update(changes)
    return data


def test_a_well_formed_standalone_instrument_parses_as_a_questionnaire():
    q = parse_questionnaire(_instrument())
    assert (q.id, q.version, [s.id for s in q.sections]) == ("demo", 1, ["demo"])


@pytest.mark.parametrize("bad", [
    {"version": 0},
    {"version": "1"},
    {"id": "Bad Id"},
    {"title": ""},
    {"kind": "form"},
    {"colour": "red"},
    {"questions": []},
    {"questions": [{"id": "a", "type": "slider", "text": "A?"}]},
    {"questions": [{"id": "a", "type": "boolean"}]},
    {"questions": [{"id": "a", "type": "boolean", "text": "A?", "min": 1}]},
    {"questions": [{"id": "a", "type": "boolean", "text": "A?"}, {"id": "a", "type": "boolean", "text": "B?"}]},
    {"questions": [{"id": "a", "type": "integer", "text": "A?", "min": 5, "max": 1}]},
    {"questions": [{"id": "a", "type": "integer", "text": "A?"}]},
    {"questions": [{"id": "a", "type": "text", "text": "A?"}]},
    {"questions": [{"id": "a", "type": "choice", "text": "A?", "options": []}]},
    {"questions": [{"id": "a", "type": "choice", "text": "A?", "options": [{"value": True, "label": "Y"}]}]},
    {"questions": [{"id": "a", "type": "choice", "text": "A?", "options": "missing_set"}]},
    {"questions": [{"id": "a", "type": "choice", "text": "A?",
                    "options": [{"value": 1, "label": "x"}, {"value": 1, "label": "y"}]}]},
    {"questions": [{"id": "a", "type": "boolean", "text": "A?", "required": "yes"}]},
    {"questions": [{"id": "a", "type": "boolean", "text": "A?", "required_if": {"question": "zz", "equals": True}}]},
    {"questions": [{"id": "a", "type": "boolean", "text": "A?"},
                   {"id": "b", "type": "boolean", "text": "B?", "required_if": {"question": "a", "equals": 1}}]},
    {"questions": [{"id": "a", "type": "list", "text": "A?", "max_items": 2,
                    "fields": [{"id": "x", "type": "list", "text": "X", "max_items": 1,
                                "fields": [{"id": "y", "type": "boolean", "text": "Y"}]}]}]},
    {"questions": [{"id": "a", "type": "list", "text": "A?", "fields": [{"id": "x", "type": "boolean", "text": "X"}]}]},
    {"questions": [{"id": "a", "type": "date", "text": "A?", "min": "1900-13-01"}]},
])
def test_a_malformed_definition_is_refused(bad):
    with pytest.raises(DefinitionError):
        parse_instrument(_instrument(**bad))


def test_a_composite_questionnaire_must_refer_to_known_instruments():
    demo = parse_instrument(_instrument())
    composite = {"kind": "questionnaire", "id": "combo", "version": 1, "title": "Combo",
                 "sections": [{"id": "first", "instrument": "demo", "version": 1, "required": True}]}
    q = parse_questionnaire(composite, {("demo", 1): demo})
    assert q.sections[0].questions == demo.questions and q.sections[0].title == "Demo"
    with pytest.raises(DefinitionError, match="unknown instrument"):
        parse_questionnaire(composite, {})
    twice = copy.deepcopy(composite)
    twice["sections"].append(twice["sections"][0])
    with pytest.raises(DefinitionError, match="unique"):
        parse_questionnaire(twice, {("demo", 1): demo})
    with pytest.raises(DefinitionError):
        parse_questionnaire({**composite, "sections": []}, {("demo", 1): demo})
    with pytest.raises(DefinitionError):
        parse_questionnaire("not a dict")


def test_loading_a_directory_refuses_a_bad_file(tmp_path):
    (tmp_path / "demo.v1.json").write_text(json.dumps(_instrument()))
    instruments, questionnaires = load_definitions(tmp_path)
    assert ("demo", 1) in instruments and ("demo", 1) in questionnaires
    (tmp_path / "demo.v1.json").write_text(json.dumps(_instrument(version=2)))
    with pytest.raises(DefinitionError, match="file name"):
        load_definitions(tmp_path)
    (tmp_path / "demo.v1.json").write_text(json.dumps(_instrument(questions=[{"id": "a", "type": "nope"}])))
    with pytest.raises(DefinitionError, match="demo.v1.json"):
        load_definitions(tmp_path)


# --------------------------------------------------------------------------- validation: the happy path


def test_a_complete_screening_is_valid_and_normalized(screening):
    answers = valid_screening_answers(medical={"state_of_residence": "ny", "other_medications": "  vitamin D  "})
    clean, errors = check(screening, answers)
    assert errors == {}
    assert clean["medical"]["state_of_residence"] == "NY"
    assert clean["medical"]["other_medications"] == "vitamin D"
    assert clean["medical"]["date_of_birth"] == answers["medical"]["date_of_birth"]
    assert clean["phq9"] == answers["phq9"]
    assert clean["treatment_history"] == answers["treatment_history"]


def test_standalone_phq9_and_gad7_validate_by_themselves():
    assert check(get_questionnaire("phq9", 1), {"phq9": phq9_answers(12)})[1] == {}
    assert check(get_questionnaire("gad7", 1), {"gad7": gad7_answers(21)})[1] == {}
    assert errors_of(get_questionnaire("gad7", 1), {"phq9": phq9_answers(3)}) == {
        "answers.phq9": ["Unknown section."], "answers.gad7": ["This section is required."]}


def test_optional_answers_may_be_left_out_or_null(screening):
    answers = valid_screening_answers()
    del answers["medical"]["blood_pressure"]
    answers["medical"]["other_medications"] = None
    clean, errors = check(screening, answers)
    assert errors == {} and "blood_pressure" not in clean["medical"] and "other_medications" not in clean["medical"]


def test_empty_lists_are_valid_answers(screening):
    answers = valid_screening_answers(treatment_history={"antidepressant_trials": []},
                                      medical={"vascular_history": [], "current_medications": []})
    assert errors_of(screening, answers) == {}


# --------------------------------------------------------------------------- validation: errors


def test_answers_must_be_an_object(screening):
    assert check(screening, ["no"]) == ({}, {"answers": ["Answers must be an object."]})


def test_unknown_section_and_question(screening):
    answers = valid_screening_answers(phq9={"q10": 1})
    answers["extra"] = {}
    clean, errors = check(screening, answers)
    assert errors == {"answers.extra": ["Unknown section."], "answers.phq9.q10": ["Unknown question."]}
    assert "extra" not in clean and "q10" not in clean["phq9"]


def test_missing_required_section_and_question(screening):
    answers = valid_screening_answers()
    del answers["gad7"]
    del answers["phq9"]["q4"]
    answers["cssrs"] = "none"
    assert errors_of(screening, answers) == {
        "answers.gad7": ["This section is required."],
        "answers.phq9.q4": ["This question is required."],
        "answers.cssrs": ["This section must be an object."],
    }


@pytest.mark.parametrize("value, message", [
    (4, "Must be one of: 0, 1, 2, 3."),
    (-1, "Must be one of: 0, 1, 2, 3."),
    ("2", "Must be one of: 0, 1, 2, 3."),
    (True, "Must be one of: 0, 1, 2, 3."),
    (1.5, "Must be one of: 0, 1, 2, 3."),
])
def test_out_of_range_or_mistyped_choice(screening, value, message):
    assert errors_of(screening, valid_screening_answers(phq9={"q3": value})) == {"answers.phq9.q3": [message]}


@pytest.mark.parametrize("question, value", [
    ("hypertension", "mild"),
    ("heart_disease", "uncontrolled"),
    ("current_medications", ["ssri_snri", "aspirin"]),
    ("vascular_history", ["stroke"]),
])
def test_option_not_allowed(screening, question, value):
    errors = errors_of(screening, valid_screening_answers(medical={question: value}))
    assert list(errors) == [f"answers.medical.{question}"]
    assert errors[f"answers.medical.{question}"][0].startswith(("Must be one of:", "Each choice must be one of:"))


def test_multi_choice_needs_a_list_of_unique_options(screening):
    assert errors_of(screening, valid_screening_answers(medical={"current_medications": "maoi"})) == {
        "answers.medical.current_medications": ["Must be a list of options."]}
    assert errors_of(screening, valid_screening_answers(medical={"current_medications": ["maoi", "maoi"]})) == {
        "answers.medical.current_medications": ["Each option may be chosen only once."]}


@pytest.mark.parametrize("value", [1, 0, "true", "false", "yes"])
def test_booleans_must_be_json_true_or_false(screening, value):
    assert errors_of(screening, valid_screening_answers(medical={"liver_disease": value})) == {
        "answers.medical.liver_disease": ["Must be true or false."]}


def test_integers_must_not_be_strings_or_booleans(screening):
    for value in ("8", True, 8.0):
        trial = {"name": "sertraline", "weeks": value, "adequate_dose": True}
        errors = errors_of(screening, valid_screening_answers(treatment_history={"antidepressant_trials": [trial]}))
        assert errors == {"answers.treatment_history.antidepressant_trials.0.weeks": ["Must be a whole number."]}


def test_integer_range_both_ends(screening):
    def weeks(value):
        trial = {"name": "x", "weeks": value, "adequate_dose": True}
        return errors_of(screening, valid_screening_answers(treatment_history={"antidepressant_trials": [trial]}))

    assert weeks(0) == {} and weeks(520) == {}
    assert weeks(-1) == weeks(521) == {
        "answers.treatment_history.antidepressant_trials.0.weeks": ["Must be between 0 and 520."]}


def test_list_item_errors_carry_their_index(screening):
    trials = [
        {"name": "sertraline", "weeks": 8, "adequate_dose": True},
        {"name": "", "weeks": 8, "adequate_dose": 1, "dose_mg": 50},
        "fluoxetine",
        {"name": "x" * 101},
    ]
    clean, errors = check(screening, valid_screening_answers(treatment_history={"antidepressant_trials": trials}))
    path = "answers.treatment_history.antidepressant_trials"
    assert errors == {
        f"{path}.1.dose_mg": ["Unknown field."],
        f"{path}.1.name": ["Must not be empty."],
        f"{path}.1.adequate_dose": ["Must be true or false."],
        f"{path}.2": ["Each item must be an object."],
        f"{path}.3.name": ["Must be at most 100 characters."],
        f"{path}.3.weeks": ["This field is required."],
        f"{path}.3.adequate_dose": ["This field is required."],
    }
    assert "antidepressant_trials" not in clean["treatment_history"]


def test_list_length_is_limited(screening):
    trial = {"name": "x", "weeks": 8, "adequate_dose": True}
    assert errors_of(screening, valid_screening_answers(treatment_history={"antidepressant_trials": [trial] * 20})) == {}
    assert errors_of(screening, valid_screening_answers(treatment_history={"antidepressant_trials": [trial] * 21})) == {
        "answers.treatment_history.antidepressant_trials": ["Must have at most 20 items."]}
    assert errors_of(screening, valid_screening_answers(treatment_history={"antidepressant_trials": trial})) == {
        "answers.treatment_history.antidepressant_trials": ["Must be a list."]}


def test_text_length_and_type(screening):
    assert errors_of(screening, valid_screening_answers(medical={"other_medications": "x" * 500})) == {}
    assert errors_of(screening, valid_screening_answers(medical={"other_medications": ""})) == {}
    assert errors_of(screening, valid_screening_answers(medical={"other_medications": "x" * 501})) == {
        "answers.medical.other_medications": ["Must be at most 500 characters."]}
    assert errors_of(screening, valid_screening_answers(medical={"other_medications": 5})) == {
        "answers.medical.other_medications": ["Must be text."]}


def test_date_must_be_iso_real_and_not_in_the_future(screening):
    def dob(value):
        return errors_of(screening, valid_screening_answers(medical={"date_of_birth": value}))

    assert dob(TODAY.isoformat()) == {}
    assert dob((TODAY + timedelta(days=1)).isoformat()) == {"answers.medical.date_of_birth": ["Must not be in the future."]}
    assert dob("1985-02-30") == {"answers.medical.date_of_birth": ["Must be a real calendar date."]}
    for bad in ("17/05/1985", "19850517", "1985-05-17T00:00:00", 19850517):
        assert dob(bad) == {"answers.medical.date_of_birth": ["Must be a date written YYYY-MM-DD."]}
    assert dob("1899-12-31") == {"answers.medical.date_of_birth": ["Must not be before 1900-01-01."]}


def test_us_state(screening):
    assert errors_of(screening, valid_screening_answers(medical={"state_of_residence": "dc"})) == {}
    for bad in ("XX", "New York", 12):
        assert errors_of(screening, valid_screening_answers(medical={"state_of_residence": bad})) == {
            "answers.medical.state_of_residence": ["Must be a two-letter US state code, such as NY."]}


def test_blood_pressure(screening):
    def bp(value):
        return errors_of(screening, valid_screening_answers(medical={"blood_pressure": value}))

    assert bp({"systolic": 300, "diastolic": 200}) == {}
    assert bp({"systolic": 50, "diastolic": 30}) == {}
    path = "answers.medical.blood_pressure"
    assert bp({"systolic": 301, "diastolic": 29}) == {
        f"{path}.systolic": ["Must be between 50 and 300."], f"{path}.diastolic": ["Must be between 30 and 200."]}
    assert bp({"systolic": "120", "diastolic": 80, "pulse": 70}) == {
        f"{path}.pulse": ["Unknown field."], f"{path}.systolic": ["Must be a whole number."]}
    assert bp({"systolic": 120}) == {f"{path}.diastolic": ["This field is required."]}
    assert bp({"systolic": 80, "diastolic": 80}) == {
        path: ["The systolic (upper) number must be higher than the diastolic (lower) one."]}
    assert bp("120/80") == {path: ["Must be an object with systolic and diastolic numbers."]}


def test_mood_stabilizer_is_required_only_after_mania(screening):
    assert errors_of(screening, valid_screening_answers(medical={"mania_or_bipolar_history": False})) == {}
    assert errors_of(screening, valid_screening_answers(medical={"mania_or_bipolar_history": True})) == {
        "answers.medical.mood_stabilizer": ["This question is required."]}
    assert errors_of(screening, valid_screening_answers(
        medical={"mania_or_bipolar_history": True, "mood_stabilizer": False})) == {}


def test_cssrs_follow_up_questions_are_required_only_after_a_yes(screening):
    assert errors_of(screening, valid_screening_answers(cssrs={"q2": True})) == {
        "answers.cssrs.q3": ["This question is required."],
        "answers.cssrs.q4": ["This question is required."],
        "answers.cssrs.q5": ["This question is required."],
    }
    assert errors_of(screening, valid_screening_answers(cssrs={"q2": True, "q3": False, "q4": False, "q5": False})) == {}
    assert errors_of(screening, valid_screening_answers(cssrs={"q6": True})) == {
        "answers.cssrs.q6_recent": ["This question is required."]}
    assert errors_of(screening, valid_screening_answers(cssrs={"q6": True, "q6_recent": False})) == {}


def test_answers_to_skipped_follow_ups_are_kept(screening):
    # Contradictory answers must reach scoring, which never lets them lower the risk.
    clean, errors = check(screening, valid_screening_answers(cssrs={"q2": False, "q4": True}))
    assert errors == {} and clean["cssrs"]["q4"] is True


def test_partial_mode_skips_missing_but_checks_given_answers(screening):
    draft = {"phq9": {"q1": 2, "q2": 9}, "medical": {"liver_disease": "no"}}
    clean, errors = check(screening, draft, partial=True)
    assert errors == {"answers.phq9.q2": ["Must be one of: 0, 1, 2, 3."],
                      "answers.medical.liver_disease": ["Must be true or false."]}
    assert clean == {"phq9": {"q1": 2}, "medical": {}}
    assert check(screening, {}, partial=True) == ({}, {})
    assert errors_of(screening, {"nope": {}}, partial=True) == {"answers.nope": ["Unknown section."]}
    assert errors_of(screening, {"cssrs": {"q2": True}}, partial=True) == {}


def test_every_message_is_a_short_sentence(screening):
    answers = valid_screening_answers(phq9={"q1": 7}, medical={"liver_disease": 1, "blood_pressure": {"systolic": 1}})
    del answers["gad7"]
    for messages in errors_of(screening, answers).values():
        for message in messages:
            assert message[0].isupper() and message.endswith(".") and len(message) < 120


def test_missing_sections(screening):
    assert missing_sections(screening, {}) == ["treatment_history", "phq9", "gad7", "cssrs", "medical"]
    assert missing_sections(screening, {"phq9": {"q1": 1}, "gad7": {}}) == [
        "treatment_history", "gad7", "cssrs", "medical"]
    assert missing_sections(screening, valid_screening_answers()) == []
    assert missing_sections(screening, None) == ["treatment_history", "phq9", "gad7", "cssrs", "medical"]
