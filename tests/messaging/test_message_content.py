"""Outbound SMS bodies say nothing clinical and stay short (PRODUCT.md, SMS rules)."""
from __future__ import annotations

import pytest

from telehealth.services.messaging.message_content import (
    CLINICAL_TERMS,
    CRISIS_RESOURCE_NAMES,
    MAX_SMS_CHARS,
    ClinicalContentError,
    check_sms_body,
    clinical_terms_in,
)

CRISIS_REPLY = "If you are in danger call 911. Call or text 988 (Suicide & Crisis Lifeline) or text HOME to 741741."

# Bodies the program will send: each must pass as written.
TEMPLATES = [
    "Your appointment is tomorrow at 3:00 PM. Reply STOP to opt out.",
    "Time for your check-in: reply with your reading like 128/82 and YES if your sitter is with you.",
    "Your package has shipped: https://www.ups.com/track?tracknum=1Z999",
    "How are you feeling today from 1 to 10?",
    "Telehealth Program: up to 4 msgs per session. Msg & data rates may apply. Reply STOP to opt out, "
    "HELP for help. Support: care@telehealth.example",
    "How did you sleep last night, from 1 to 10? Anything unusual? Reply like: 7 6 none",
    "Your package was delivered. Reply HELP for support.",
    "Your coach is ready for your call at 4:30 PM.",
]


@pytest.mark.parametrize("body", TEMPLATES)
def test_program_templates_pass(body):
    assert check_sms_body(body) is None


def test_the_crisis_reply_is_refused_without_the_flag_and_allowed_with_it():
    with pytest.raises(ClinicalContentError) as caught:
        check_sms_body(CRISIS_REPLY)
    assert caught.value.terms == ("suicide",)
    assert caught.value.reason == "clinical_terms"
    assert check_sms_body(CRISIS_REPLY, allow_crisis_resources=True) is None


@pytest.mark.parametrize("name", CRISIS_RESOURCE_NAMES)
def test_every_official_resource_name_passes_with_the_flag(name):
    check_sms_body(f"Call or text 988 or contact the {name}.", allow_crisis_resources=True)
    check_sms_body(f"Call or text 988 or contact the {name.upper()}.", allow_crisis_resources=True)


@pytest.mark.parametrize("body, terms", [
    ("You seem suicidal. Call the 988 Suicide & Crisis Lifeline.", ("suicidal",)),
    ("Suicide is preventable. Call the Suicide & Crisis Lifeline.", ("suicide",)),
    ("Suicide hotline: 988", ("suicide",)),  # not the official name
    ("Crisis Text Line: text HOME to 741741. Skip your ketamine dose tonight.", ("ketamine", "dose")),
])
def test_the_flag_permits_only_the_official_names(body, terms):
    with pytest.raises(ClinicalContentError) as caught:
        check_sms_body(body, allow_crisis_resources=True)
    assert caught.value.terms == terms


def test_the_flag_is_keyword_only():
    with pytest.raises(TypeError):
        check_sms_body(CRISIS_REPLY, True)  # type: ignore[misc]


def test_clinical_terms_are_unique_lowercase_and_stripped():
    assert len(CLINICAL_TERMS) == len(set(CLINICAL_TERMS))
    assert all(term == term.lower().strip() and term for term in CLINICAL_TERMS)


@pytest.mark.parametrize("term", CLINICAL_TERMS)
def test_every_listed_term_fires_in_a_sentence_in_any_case(term):
    for body in (f"Hello, about your {term} today.", f"{term.upper()}!", f"({term.title()})"):
        with pytest.raises(ClinicalContentError) as caught:
            check_sms_body(body)
        assert term in caught.value.terms, body


@pytest.mark.parametrize("body, terms", [
    ("Lorem ketamine ipsum", ("ketamine",)),
    ("Your KETAMINE kit shipped", ("ketamine",)),
    ("Kétamine arrives Friday", ("ketamine",)),
    ("Take 50mg at 7pm", ("mg",)),
    ("Take 50 mg at 7pm", ("mg",)),
    ("Your Special-K order", ("special k",)),
    ("Your special  K order", ("special k",)),
    ("Dose: one", ("dose",)),
    ("Your Rx is ready", ("rx",)),
    ("Treatment-resistant depression program", ("treatment resistant", "depression")),
    ("treatment resistant", ("treatment resistant",)),
    ("Your PHQ-9 is due", ("phq 9",)),
    ("phq9 and GAD7 and c-ssrs", ("phq 9", "gad 7", "c ssrs")),
    ("K-hole, khole", ("k hole",)),
    ("Posttraumatic", ("post traumatic",)),
    ("doses", ("doses",)),
    ("Stop Xanax and Lamotrigine", ("xanax", "lamotrigine")),
    ("PTSD/anxiety group", ("ptsd", "anxiety")),
    ("post-traumatic stress", ("post traumatic",)),
    ("your prescription refill", ("prescription", "refill")),
    ("ketamine ketamine dose", ("ketamine", "dose")),
])
def test_clinical_bodies_are_refused(body, terms):
    with pytest.raises(ClinicalContentError) as caught:
        check_sms_body(body)
    assert caught.value.terms == terms
    assert clinical_terms_in(body) == terms
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("body", [
    "The office is closed on Monday.",  # "dose" inside "closed"
    "We closes at 5.",  # "dose" does not match "closes"
    "A dozen reasons to smile",
    "The smog is bad today; check mgmt updates.",  # "mg" inside words
    "Your special kit shipped.",  # "special k" must be followed by a non-letter
    "Grab your pillow and a blanket.",  # "pill" inside "pillow"
    "Prescott office hours changed.",  # not "prescribe"
    "Gadget delivered.",  # not "gad"
    "Therapeutic? no: Therapeutics Inc. is not a listed term",  # "therapy" is not a prefix match
    "Manicure appointment at noon",  # not "manic"
    "The mood board is ready",
    "Your krx order",  # "rx" with a letter before it
    "Traumatized?",  # not listed: boundary keeps "trauma" from matching inside it
])
def test_ordinary_words_that_contain_a_term_pass(body):
    assert check_sms_body(body) is None


def test_the_default_clinic_name_would_be_refused():
    # CLINIC_NAME defaults to "Telehealth Ketamine Program": the HELP reply must use a neutral SMS name.
    with pytest.raises(ClinicalContentError):
        check_sms_body("Telehealth Ketamine Program: reply STOP to opt out.")


def test_length_limit_is_320_characters():
    check_sms_body("a" * MAX_SMS_CHARS)
    with pytest.raises(ClinicalContentError) as caught:
        check_sms_body("a" * (MAX_SMS_CHARS + 1))
    assert caught.value.reason == "too_long"
    assert caught.value.length == MAX_SMS_CHARS + 1
    assert caught.value.terms == ()
    assert MAX_SMS_CHARS == 320


def test_a_long_crisis_reply_is_still_too_long():
    with pytest.raises(ClinicalContentError) as caught:
        check_sms_body(CRISIS_REPLY * 4, allow_crisis_resources=True)
    assert caught.value.reason == "too_long"


def test_body_must_be_a_string():
    with pytest.raises(TypeError):
        check_sms_body(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        check_sms_body(b"ketamine")  # type: ignore[arg-type]


def test_error_message_names_the_terms_for_the_developer():
    with pytest.raises(ClinicalContentError, match="ketamine"):
        check_sms_body("ketamine")
