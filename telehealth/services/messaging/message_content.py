"""What an outbound SMS body may say: nothing clinical, and short.

PRODUCT.md: "Message bodies are short and say nothing clinical (no drug names, no diagnoses)". A text
message is read on a lock screen, by whoever holds the phone, and kept by the carrier, so every body
the outbox sends passes through this check first. Pure: no database, no Flask, no HTTP.

Public interface (others call it from the SMS outbox; keep it stable):

    check_sms_body(body: str, *, allow_crisis_resources: bool = False) -> None
        Returns None when `body` may be sent. Raises `ClinicalContentError` when it names a clinical
        term of `CLINICAL_TERMS` or is longer than `MAX_SMS_CHARS` (320) characters; raises
        TypeError when `body` is not a str.
        `allow_crisis_resources=True` is for the crisis reply only: it permits exactly the official
        names in `CRISIS_RESOURCE_NAMES` ("988 Suicide & Crisis Lifeline", "Crisis Text Line", ...)
        and nothing else, so "Suicide" inside the Lifeline's name passes while "suicidal" or a
        bare "suicide" elsewhere in the same body still raises.

    class ClinicalContentError(ValueError)
        .reason: "clinical_terms" or "too_long"
        .terms:  the terms found, lowercased, in order of first appearance (empty for "too_long")
        .length: the body's length in characters

    CLINICAL_TERMS: tuple[str, ...]    every term checked, documented and tested one by one
    CRISIS_RESOURCE_NAMES: tuple[str, ...]
    MAX_SMS_CHARS = 320

How terms match: case-insensitive, accents stripped (so "Kétamine" matches), on letter boundaries: a
term matches only where the characters on either side are not letters. So "dose" matches "dose",
"Dose:" and "2dose" but not "closed", "doses" is its own listed term, "mg" matches "10mg" and
"10 mg" but not "smog" or "mgmt", and "special k" matches "Special K" or "special-k" but not
"special kit". Plurals and other forms are listed explicitly rather than guessed by a stemmer, so
the list is exactly what is checked. The length limit counts Python characters (two concatenated
GSM-7 segments are 306 characters; the carrier, not this check, decides segmenting).
"""
from __future__ import annotations

import re
import unicodedata

MAX_SMS_CHARS = 320

# Each entry is a lowercase term; a space inside a term matches any run, possibly empty, of spaces,
# hyphens or underscores ("special k" matches "special-k" and "specialk", "phq 9" matches "PHQ-9" and
# "phq9", "treatment resistant" matches "treatment-resistant").
DRUG_TERMS: tuple[str, ...] = (
    # ketamine and its names, brands and street names
    "ketamine", "esketamine", "arketamine", "spravato", "ketalar", "special k", "vitamin k", "k hole",
    # benzodiazepines (interacting medications in PRODUCT.md)
    "benzodiazepine", "benzodiazepines", "benzo", "benzos", "alprazolam", "xanax", "lorazepam", "ativan",
    "clonazepam", "klonopin", "diazepam", "valium", "temazepam", "restoril", "chlordiazepoxide", "librium",
    "midazolam",
    # mood stabilizers and antipsychotics
    "lamotrigine", "lamictal", "lithium", "quetiapine", "seroquel", "aripiprazole", "abilify", "olanzapine",
    "zyprexa", "risperidone", "risperdal",
    # antidepressants: SSRIs, SNRIs, MAOIs and others
    "ssri", "ssris", "snri", "snris", "maoi", "maois", "antidepressant", "antidepressants", "fluoxetine", "prozac",
    "sertraline", "zoloft", "paroxetine", "paxil", "citalopram", "celexa", "escitalopram", "lexapro",
    "fluvoxamine", "luvox", "venlafaxine", "effexor", "duloxetine", "cymbalta", "bupropion", "wellbutrin",
    "mirtazapine", "remeron", "trazodone", "phenelzine", "nardil", "tranylcypromine", "parnate", "selegiline",
    "emsam",
    # stimulants (interacting) and the anti-nausea drug often given with ketamine
    "adderall", "amphetamine", "methylphenidate", "ritalin", "ondansetron", "zofran",
    "antipsychotic", "antipsychotics", "psychedelic", "psychedelics",
)
CONDITION_TERMS: tuple[str, ...] = (
    "depression", "depressed", "depressive", "mdd", "trd", "anxiety", "anxious", "gad", "panic disorder", "ptsd",
    "post traumatic", "trauma", "traumatic", "bipolar", "mania", "manic", "hypomania",
    "psychosis", "psychotic", "schizophrenia", "schizophrenic", "schizoaffective", "suicide", "suicidal",
    "self harm", "overdose", "ocd", "adhd", "mental illness", "mental health", "mood disorder",
    "eating disorder", "substance use", "addiction", "alcoholism", "dissociation", "dissociative",
    "hallucination", "hallucinations", "phq", "phq 9", "gad 7", "c ssrs",
)
CARE_TERMS: tuple[str, ...] = (
    "dose", "doses", "dosed", "dosing", "dosage", "mg", "milligram", "milligrams", "mcg",
    "prescription", "prescriptions", "prescribed", "prescribe", "rx", "refill", "refills",
    "medication", "medications", "meds", "pill", "pills", "tablet", "tablets", "troche", "troches",
    "lozenge", "lozenges", "controlled substance", "schedule iii", "pharmacy",
    "psychiatric", "psychiatrist", "psychiatry", "psychotherapy", "therapy", "therapist", "antidepressive",
    "treatment resistant", "diagnosis", "diagnosed", "blood pressure",
)
CLINICAL_TERMS: tuple[str, ...] = DRUG_TERMS + CONDITION_TERMS + CARE_TERMS

# The official names of the crisis resources (telehealth.crisis_lines.RESOURCES), permitted only
# with allow_crisis_resources=True. Longest first, so the longest name is removed before a shorter one.
CRISIS_RESOURCE_NAMES: tuple[str, ...] = (
    "988 Suicide & Crisis Lifeline",
    "988 Suicide and Crisis Lifeline",
    "Suicide & Crisis Lifeline",
    "Suicide and Crisis Lifeline",
    "Crisis Text Line",
)


class ClinicalContentError(ValueError):
    """An outbound SMS body that must not be sent: it names something clinical, or is too long."""

    def __init__(self, reason: str, *, terms: tuple[str, ...] = (), length: int = 0):
        self.reason = reason
        self.terms = terms
        self.length = length
        if reason == "too_long":
            message = f"SMS body is {length} characters; at most {MAX_SMS_CHARS} are allowed."
        else:
            message = "SMS body names clinical terms: " + ", ".join(terms) + "."
        super().__init__(message)


def _term_pattern(term: str) -> str:
    body = r"[\s\-_]*".join(re.escape(word) for word in term.split())
    return rf"(?<![a-z]){body}(?![a-z])"


# One alternation, longest terms first, so "phq 9" is reported rather than "phq" and "doses" rather than "dose".
_TERMS_RE = re.compile("|".join(
    f"(?P<t{i}>{_term_pattern(term)})"
    for i, term in sorted(enumerate(CLINICAL_TERMS), key=lambda pair: len(pair[1]), reverse=True)
))
_RESOURCES_RE = re.compile(
    "|".join(re.escape(name) for name in sorted(CRISIS_RESOURCE_NAMES, key=len, reverse=True)), re.IGNORECASE,
)


def _fold(text: str) -> str:
    """Lowercase with accents removed; one output character per input character is not needed here."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def clinical_terms_in(body: str) -> tuple[str, ...]:
    """The clinical terms `body` names, lowercased, in order of first appearance (no flag applied)."""
    found: list[str] = []
    for match in _TERMS_RE.finditer(_fold(body)):
        term = CLINICAL_TERMS[int(match.lastgroup[1:])]
        if term not in found:
            found.append(term)
    return tuple(found)


def check_sms_body(body: str, *, allow_crisis_resources: bool = False) -> None:
    """Raise ClinicalContentError unless `body` is short and names nothing clinical. See the module docstring."""
    if not isinstance(body, str):
        raise TypeError("an SMS body must be a str")
    if len(body) > MAX_SMS_CHARS:
        raise ClinicalContentError("too_long", length=len(body))
    scanned = _RESOURCES_RE.sub(" ", body) if allow_crisis_resources else body
    terms = clinical_terms_in(scanned)
    if terms:
        raise ClinicalContentError("clinical_terms", terms=terms, length=len(body))
