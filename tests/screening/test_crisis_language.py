"""Crisis language: found by intent (crisis_language.INTENTS) on a labelled corpus with 100% recall,
the phrasings and misses of earlier reviews, and the ordinary replies that must not fire."""
from __future__ import annotations

import pytest

from telehealth.services.home_care import reply_parsing
from telehealth.services.screening import crisis_language
from telehealth.services.screening.crisis_language import INTENTS, crisis_intents, detect_crisis, normalise
from tests.screening.crisis_corpus import CORPUS, CRISIS, ORDINARY


def test_the_corpus_is_large_and_covers_every_intent():
    assert len(CORPUS) >= 300 and len(set(CORPUS)) == len(CORPUS)
    assert set(CRISIS) == set(INTENTS) and all(len(texts) >= 15 for texts in CRISIS.values())
    assert len(ORDINARY) >= 100
    assert not set(ORDINARY) & {text for texts in CRISIS.values() for text in texts}


def test_recall_on_the_corpus_is_total():
    missed = [(text, intent) for text, intent in CORPUS if intent and not detect_crisis(text)]
    assert missed == []


@pytest.mark.parametrize("intent", list(CRISIS))
def test_each_phrasing_is_read_as_its_own_intent(intent):
    wrong = [text for text in CRISIS[intent] if intent not in crisis_intents(text)]
    assert wrong == []


def test_every_pattern_is_exercised_by_the_corpus():
    texts = [normalise(text) for text, intent in CORPUS if intent]
    dead = [(intent, source) for intent, patterns in crisis_language._COMPILED.items()
            for pattern, source in zip(patterns, INTENTS[intent], strict=True)
            if not any(pattern.search(text) for text in texts)]
    assert dead == []


def test_precision_on_the_corpus_stays_useful():
    """Recall wins, but a detector that fires on everything pages someone for every "7"."""
    fired = [text for text in ORDINARY if detect_crisis(text)]
    assert len(fired) <= len(ORDINARY) // 20, fired


@pytest.mark.parametrize("text, normal", [
    ("I can't breathe!!!", "i cant breathe"), ("heeelp", "help"), ("kms", "kil myself"),
    ("wanna d1e", "want to die"), ("killmyself", "kil myself"), ("notsafe rn", "not safe right now"),
    ("sucide", "suicide"), ("pls some1", "please someone"), ("I ran 5 kms", "i ran 5 kilometres"),
    ("S.O.S.", "sos"), ("that's odd", "thats od"),
])
def test_normalisation(text, normal):
    assert normalise(text) == normal


def test_reply_parsing_still_answers_detect_crisis():
    assert reply_parsing.detect_crisis("not safe right now") is True
    assert reply_parsing.detect_crisis("7 none") is False


# The word list this module replaced: every phrase of it still fires.
FORMER_PHRASES = (
    "suicide", "suicidal", "kill myself", "killing myself", "kill me", "want to die", "going to die",
    "ready to die", "wish i was dead", "wish i were dead", "want to be dead", "better off dead",
    "better off without me", "end it all", "ending it all", "end my life", "ending my life", "end it tonight",
    "take my own life", "take my life", "no reason to live", "nothing to live for", "dont want to live",
    "dont want to be alive", "dont want to be here anymore", "dont want to wake up", "never wake up",
    "not worth living", "hang myself", "shoot myself", "jump off a bridge", "jump off the roof", "im dying",
    "goodbye forever", "going to end it", "want to end it", "want it all to end", "want it to end",
    "done with life", "tired of living", "cant go on", "dont want to exist", "want to disappear forever",
    "end things", "ending things", "end myself", "feel like dying", "feels like dying", "felt like dying",
    "feeling like dying", "no point living", "point in living", "point of living", "point to living",
    "no point in life", "no point in going on", "no point going on", "going to jump", "about to jump",
    "want to jump", "jump off a", "jump off the", "jump off my", "jump from", "jumping off", "jump in front of",
    "jump out the window", "jump out of the window", "jump out a window", "throw myself off",
    "throw myself in front", "hurt myself", "hurting myself", "harm myself", "harming myself", "self harm",
    "cut myself", "cutting myself", "cut my wrists", "slit my wrists", "burn myself", "burning myself", "overdose",
    "overdosed", "overdosing", "took too many", "taken too many", "take too many", "took all my",
    "took the whole bottle", "took extra", "took double", "too many pills", "took too much", "taken too much",
    "take too much", "taking too much", "took way too much", "take them all", "take all of them",
    "taking them all", "took them all", "took all of them", "take all my", "take all of my", "take all the pills",
    "took all the pills", "swallow them all", "swallowed them all", "swallowed all", "swallow all", "cant breathe",
    "trouble breathing", "not breathing", "stopped breathing", "hard to breathe", "chest pain", "chest hurts",
    "heart attack", "stroke", "seizure", "having a seizure", "passed out", "fainted", "unconscious",
    "unresponsive", "wont wake up", "call 911", "911", "ambulance", "emergency", "short of breath",
    "shortness of breath", "cant catch my breath", "cant get air", "cant get enough air", "struggling to breathe",
    "difficulty breathing", "gasping for air", "barely breathing", "isnt breathing", "wasnt breathing", "no pulse",
    "turning blue", "tight chest", "chest tight", "chest is tight", "chest feels tight", "chest is so tight",
    "chest is really tight", "chest feels so tight", "chest tightness", "tightness in my chest",
    "tight in my chest", "chest pressure", "pressure in my chest", "pressure on my chest", "chest is heavy",
    "chest feels heavy", "heavy chest", "crushing chest", "chest hurting", "pain in my chest", "chest ache",
    "chest aches", "pass out", "passing out", "going to faint", "about to faint", "feel faint", "feeling faint",
    "fainting", "blacking out", "blacked out", "cant wake", "wont wake", "not waking up", "isnt waking up",
    "cant get him to wake", "cant get her to wake", "cant rouse", "wont respond", "hes not responding",
    "shes not responding", "he is not responding", "she is not responding", "isnt responding", "not responsive",
    "seizing", "convulsing", "convulsion", "convulsions", "bleeding a lot", "bleeding heavily", "bleeding badly",
    "bleeding bad", "bleeding really bad", "bleeding so much", "bleeding everywhere", "bleeding out",
    "wont stop bleeding", "cant stop bleeding", "cant stop the bleeding", "heavy bleeding", "im bleeding",
    "is bleeding", "hes bleeding", "shes bleeding", "lots of blood", "a lot of blood", "so much blood",
    "blood everywhere", "losing blood", "coughing up blood", "vomiting blood", "throwing up blood",
)


# ------------------------------------------------------------------------------------------------
# Crisis

CRISIS_POSITIVES = [
    # the brief's list
    "I want to die", "want to kill myself", "kms", "suicide", "suicidal", "sucide", "suiside", "end it all",
    "end my life", "no reason to live", "better off dead", "hurt myself", "cut myself", "overdose", "overdosed",
    "took too many", "OD'd", "can't breathe", "cant breath", "cannot breathe", "chest pain",
    # more phrasings, abbreviations and misspellings
    "I wanna die", "i want 2 die", "I want to dieeee", "I WANT TO DIE.", "Ｉ want to díe", "KILL MYSELF",
    "gonna kill my self", "going to kill myslef", "thinking about suicide", "i feel suicidial", "suicidle thoughts",
    "im going to end it all tonight", "I want to end my life", "I have no reason to live anymore",
    "nothing to live for", "everyone would be better off without me", "I'd be better off dead",
    "I've been hurting myself", "i cut myself again", "I want to hurt myself", "self-harm", "selfharm",
    "I took too many pills", "i think i overdosed", "i od'd on my meds", "I OD’d", "i think i OD", "O.D.",
    "took the whole bottle", "i cant breathe!!!", "I can not breathe", "CHEST PAIN", "chestpain",
    "my chest hurts", "having chest pains", "I'm dying", "i am dying", "he passed out and wont wake up",
    "she's unresponsive", "having a seizure", "I think I'm having a heart attack", "call 911",
    "I don't want to be alive anymore", "I dont want to live", "i wish i was dead", "unalive myself",
    "I want to unalive", "wtd", "I kms fr", "end. it. all.", "killmyself",
    "128/82 yes but honestly I want to kill myself", "mood 2 and i want to end it all",
    "I want to d1e", "su1c1de", "going to end it", "i just want it all to end", "im so done with life",
    "I can't go on", "tired of living",
    "not suicidal",  # no negation on purpose: a clinician reads it
]

# The review's misses (false negatives), then variants and misspellings of each.
CRISIS_POSITIVES_REVIEW = [
    "tight chest", "my chest is tight", "short of breath", "I'm going to jump",
    "i have pills and i'm going to take them all", "ending things tonight", "end things", "i took too much",
    "i feel like dying", "no point in living", "no point living", "I feel like I'm going to pass out",
    "going to pass out", "i cant wake him up", "can't wake her", "unresponsive", "not breathing",
    "hes not breathing", "seizure", "having a seizure", "bleeding a lot", "overdosing",
]
CRISIS_POSITIVES_VARIANTS = [
    # chest, breath
    "my chest feels tight", "chest tightness", "tightness in my chest", "TIGHT CHEST", "chest is so tight",
    "pressure in my chest", "SHORT OF BREATH", "shortness of breathe", "im short of breth", "gasping for air",
    "can't get enough air",
    # jumping
    "im gonna jump", "im goin to jump", "about to jump off the bridge", "I want to jump off the roof",
    "going to jump in the lake",  # only the listed ordinary places are ordinary
    "going to jump in front of a train",
    # taking everything
    "im going to take them all", "gonna take all of them", "i took them all", "going to swallow them all",
    "i'm going to take all my pills", "i took too much ketamine", "i took to much", "think i took way too much",
    "took too much of my meds", "did i take too much?", "he's taken too much",
    # ending, dying, no point
    "ending things 2nite", "endin things", "im going to end things", "i want to end things",
    "feel like im dying", "feels like dying", "no point in livin", "no point livng", "whats the point of living",
    "there's no point in going on",
    # fainting
    "i feel like im gonna pass out", "passing out", "about to faint", "feeling faint", "keep blacking out",
    # someone else: not waking, not breathing, seizing, bleeding
    "i cant wake him", "cant wake her up", "he wont wake", "hes unresponsive", "unresponsve",
    "he isnt breathing", "she isn't breathing", "she stopped breathing", "shes not breathing!!",
    "she's seizing", "hes having a seizure", "siezure", "seizures", "convulsing",
    "bleeding alot", "im bleeding", "bleeding a lot and it wont stop", "theres so much blood",
    "can't stop the bleeding", "im overdosing", "oding",
]

CRISIS_NEGATIVES = [
    "128/82 yes", "mood 3", "stop", "STOP", "kill time", "just killing time", "yes", "no", "7",
    "mood 7 sleep 6 none", "headache", "a bit nauseous", "slept great", "when does my package arrive?",
    "thanks, see you tomorrow", "I'm feeling much better", "my sitter is here", "can you reschedule my appointment",
    "the session was intense but good", "I'm tired", "what time is my call", "I killed it at work today",
    "I'm dead tired", "my phone died", "I ran 5 kms this morning", "my bill is overdue", "I overdid it at the gym",
    "the steak was overdone", "that's odd", "felt odd after", "need to catch my breath after the stairs",
    "breathe in, breathe out", "deadline tomorrow", "killer workout", "the hotel suite was nice",
    "cut my hair today", "hurt my back", "end of the day is fine", "I painted the kitchen", "drying my hair",
    "lying down now", "this heat is killing me", "STOPALL", "unsubscribe", "START", "7, 5, a bit nauseous",
    "Mood: 8. Slept 9. headache", "my subconscious felt calm", "very responsive coach", "",
    # beside the review's misses: the same words in their ordinary sense
    "my chest of drawers arrived", "I'm going to jump in the shower", "took too much time", "end of the day",
    "going to jump on a call now", "want to jump ahead in the queue", "going to jump start the car",
    "it took too much effort", "that took too much out of me", "sorry this took too much of your time",
    "in the end things were fine", "at the end things got better", "seizing the day", "short on time today",
    "my chest freezer is heavy", "7 5 slept fine, chest cold though", "I passed the exam", "passing the time",
    "sending things tonight", "no point in giving him that", "running a bit late", "feel like dyeing my hair",
    "the app is not responding",
]


def test_at_least_forty_positive_and_twenty_negative_phrasings():
    assert len(set(CRISIS_POSITIVES)) >= 40
    assert len(set(CRISIS_NEGATIVES)) >= 20


@pytest.mark.parametrize("text", CRISIS_POSITIVES + CRISIS_POSITIVES_REVIEW + CRISIS_POSITIVES_VARIANTS)
def test_crisis_phrasings_fire(text):
    assert detect_crisis(text) is True


@pytest.mark.parametrize("phrase", FORMER_PHRASES)
def test_every_phrase_of_the_former_word_list_still_fires(phrase):
    assert detect_crisis(phrase) is True


@pytest.mark.parametrize("text", CRISIS_NEGATIVES)
def test_ordinary_replies_do_not_fire(text):
    assert detect_crisis(text) is False


@pytest.mark.parametrize("text", [
    "I'm dying to know when my package comes",  # "I'm dying" is a phrase; the idiom is not excluded
    "I hurt myself lifting a box",
    "this is not an emergency",
    # "end things" fires; only "the end things..." and "end things with my boyfriend" are told apart
    "8, end things on a good note",
    # "take all my" (pills) cannot be told from a question about a dose
    "can I take all my meds in the morning",
    # "cant wake" (him, her) cannot be told from the patient's own mornings
    "I can't wake up in the mornings",
    # "pass out" and "is bleeding" have everyday senses too
    "my son is bleeding from a paper cut",
])
def test_accepted_false_positives(text):
    # False positives are acceptable, false negatives are not: these reach a clinician, by choice.
    assert detect_crisis(text) is True
