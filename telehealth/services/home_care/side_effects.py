"""Side effects named in free text, graded mild, moderate or serious by one table
(SIDE_EFFECT_TABLE): the SMS check-in replies and the app's side-effect answers alike. Pure, no
database. Negation removes mild and moderate effects but never a serious one; words left over that
are neither an effect nor filler add one "unrecognized" (moderate), so a clinician reads them."""
from __future__ import annotations

import re
from dataclasses import dataclass

from telehealth.services.platform.wording import BREAKER_CHARS as _BREAKER_CHARS
from telehealth.services.platform.wording import find as _find
from telehealth.services.platform.wording import fold as _fold
from telehealth.services.platform.wording import phrase as _phrase
from telehealth.services.platform.wording import words as _words

GRADES = ("mild", "moderate", "serious")


@dataclass(frozen=True)
class SideEffect:
    name: str
    grade: str


# (name, grade, phrasings). Phrasings are plain words; folding and misspelling tolerance apply.
SIDE_EFFECT_TABLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("chest_pain", "serious", (
        "chest pain", "chest hurts", "chest hurting", "pain in my chest", "chest tightness", "tight chest",
        "chest is tight", "chest pressure", "heart attack")),
    ("fainting", "serious", (
        "fainted", "fainting", "faint", "passed out", "pass out", "passing out", "blacked out", "black out",
        "lost consciousness", "collapsed")),
    ("breathing_trouble", "serious", (
        "cant breathe", "cannot breathe", "trouble breathing", "hard to breathe", "difficulty breathing",
        "struggling to breathe", "short of breath", "shortness of breath", "not breathing",
        "cant catch my breath")),
    ("seizure", "serious", ("seizure", "seizing", "convulsion", "convulsing", "fitting")),
    ("severe_confusion", "serious", (
        "severe confusion", "severely confused", "very confused", "extremely confused", "totally confused",
        "dont know where i am", "doesnt know where", "dont know who i am")),
    ("persistent_hallucinations", "serious", (
        "hallucinations wont stop", "hallucinations that wont stop", "hallucinations dont stop",
        "still hallucinating", "cant stop hallucinating", "hallucinating nonstop", "still seeing things")),
    ("bleeding", "serious", (
        "bleeding", "blood in urine", "blood in my urine", "blood in my pee", "blood in pee", "peeing blood",
        "coughing blood", "coughing up blood", "vomiting blood", "throwing up blood", "bloody")),
    ("unresponsive", "serious", (
        "unresponsive", "wont wake up", "cant wake", "cant be woken", "not responding", "unconscious")),
    ("stroke_signs", "serious", (
        "stroke", "slurred speech", "slurring", "face drooping", "drooping face", "one side numb",
        "numb on one side", "cant move my arm", "cant move my leg", "worst headache")),
    ("vomiting", "moderate", (
        "vomiting", "vomited", "vomit", "threw up", "throwing up", "throw up", "puking", "puked", "puke")),
    ("panic", "moderate", (
        "panic", "panic attack", "panicking", "panicky", "strong anxiety", "severe anxiety", "high anxiety",
        "very anxious",
        "really anxious", "extremely anxious", "terrified", "freaking out", "freaked out")),
    ("confusion", "moderate", (
        "confused", "confusion", "confusion lasting", "still confused", "disoriented", "cant think straight")),
    ("hallucinations", "moderate", (
        "hallucinations", "hallucinating", "hallucination", "seeing things", "hearing things", "hearing voices")),
    ("racing_heart", "moderate", (
        "racing heart", "heart racing", "heart is racing", "heart pounding", "pounding heart", "palpitations",
        "heart fluttering", "fast heartbeat", "fast heart rate", "heart beating fast")),
    ("high_blood_pressure", "moderate", (
        "high blood pressure", "blood pressure high", "blood pressure is high", "blood pressure felt high",
        "high bp", "bp high", "bp is high", "pressure in my head")),
    ("urinary", "moderate", (
        "pain when peeing", "painful urination", "burning when i pee", "burns when i pee", "hurts to pee",
        "peeing a lot", "bladder pain", "bladder", "cant pee", "urinary")),
    ("nausea", "mild", (
        "nausea", "nauseous", "nauseated", "queasy", "sick to my stomach", "felt sick", "feel sick",
        "feeling sick", "upset stomach")),
    ("dizziness", "mild", (
        "dizzy", "dizziness", "lightheaded", "light headed", "woozy", "vertigo", "off balance", "unsteady")),
    ("headache", "mild", ("headache", "head ache", "head hurts", "migraine")),
    ("tiredness", "mild", (
        "tired", "fatigue", "fatigued", "exhausted", "sleepy", "drowsy", "groggy", "wiped out", "low energy")),
    ("dissociation", "mild", (
        "dissociation", "dissociated", "dissociative", "dissociating", "floaty", "floating", "detached",
        "out of body", "unreal", "spacey", "spaced out")),
    ("anxiety", "mild", ("anxious", "anxiety", "nervous", "jittery", "on edge", "uneasy")),
    ("blurred_vision", "mild", ("blurry vision", "blurred vision", "blurry", "double vision")),
    ("numbness", "mild", ("numb", "numbness", "tingling", "pins and needles")),
    ("sweating", "mild", ("sweating", "sweaty", "sweats")),
    ("dry_mouth", "mild", ("dry mouth",)),
    ("brain_fog", "mild", ("brain fog", "foggy", "fuzzy")),
    ("poor_sleep", "mild", ("couldnt sleep", "cant sleep", "insomnia", "trouble sleeping")),
    ("low_mood", "mild", ("sad", "crying", "cried", "tearful", "emotional", "low mood")),
)
# The side effects the portal's check-in offers as tick boxes: (the words sent, which this table
# reads as that effect; the label a person reads). Anything else is typed in words.
COMMON_CHOICES: tuple[tuple[str, str], ...] = (
    ("nausea", "Nausea or feeling sick"),
    ("headache", "Headache"),
    ("dizzy", "Dizziness or feeling unsteady"),
    ("tired", "Tiredness"),
    ("detached", "Feeling detached or dreamy"),
    ("anxious", "Feeling anxious"),
    ("vomiting", "Vomiting"),
    ("racing heart", "A racing or pounding heart"),
    ("chest pain", "Chest pain or pressure"),
    ("trouble breathing", "Trouble breathing"),
)
_SIDE_EFFECT_PHRASES = sorted(
    ((_phrase(p), name, grade) for name, grade, phrasings in SIDE_EFFECT_TABLE for p in phrasings),
    key=lambda entry: -len("".join(entry[0])),
)

_INTENSIFIERS = frozenset(_words(
    "very really severe severely extreme extremely intense intensely strong so super terrible terribly "
    "awful horrible horribly bad worst unbearable crazy insanely"))
_NEGATORS = frozenset(_words(
    "no not without zero never nor didnt dont doesnt wasnt werent isnt arent havent hasnt hadnt"))
_SCOPE_BREAKERS = frozenset(_words("but except though although just only however apart besides maybe")) | set(
    _BREAKER_CHARS)
# Words that carry no side effect of their own: left over, they do not make a reply "unrecognized".
_FILLER = frozenset(_words(
    "a an the i im me my mine it its is am are was were be been being have has had got get getting "
    "felt feel feeling feels seemed seem and or nor but so just only also too as like bit little lot lots "
    "slightly slight mild mildly some kind of kinda sorta somewhat pretty quite very really super "
    "after during before since session trip today yesterday tonight last night this that morning afternoon "
    "evening now still then earlier later at first for hour hours minutes min mins while day days all "
    "side effects effect none nothing no nope nah not n na any anything else otherwise mostly overall "
    "good great fine ok okay well better much thanks thank you thx ty normal usual expected lol haha "
    "though except went go gone there times time once twice again back up down in on out to with by from "
    "mood sleep slept rest rested lasting lasted maybe think probably bad really wave waves right "
    "he she they his her him them we our us someone unusual "
    "didnt dont doesnt wasnt werent isnt arent havent hasnt hadnt without zero never few "
    "see tomorrow soon bye later cheers appreciate appreciated received yes yeah yep sure cool awesome perfect "
    "alright hi hey hello"))
# Reassuring words: filler, unless negated ("not ok").
_REASSURING = frozenset(_words("ok okay fine good great well better alright normal"))
# Anything that is not a letter, a digit, a space or ordinary punctuation (an emoji: "🔫", "😭").
_SYMBOLS = re.compile(r"[^\w\s.,!?;:'\"()/\\\-+=%&#*@$\ufe0f\u200d]", re.UNICODE)
_BENIGN_SYMBOLS = frozenset("👍🙂😊😀😃😁☺❤🙏👌✅💯🥰♥")
_SOFTENERS = frozenset(_words("really so very feeling feel doing that too at all quite"))
# Ordinary words one edit away from a side-effect word: never taken for it.
_SIDE_NEVER_FUZZY = frozenset(_words(
    "slept sleep sleeps fired tied tire tires hired tried paint saint painted sweets manic panicked "
    "feint vomits hearing seeing numbs confuse")) | _FILLER


def _grade_rank(grade: str) -> int:
    return GRADES.index(grade)


def grade_side_effects(text: str) -> list[SideEffect]:
    """Side effects named in `text`, graded by SIDE_EFFECT_TABLE. See the module docstring."""
    words = _words(_fold(text or ""), breakers=True)
    taken = [False] * len(words)
    found: dict[str, tuple[int, str]] = {}  # name -> (first position, grade)
    for phrase, name, grade in _SIDE_EFFECT_PHRASES:
        for start, end in _find(words, phrase, _SIDE_NEVER_FUZZY):
            if any(taken[start:end]):
                continue
            for i in range(start, end):
                taken[i] = True
            if grade != "serious" and _negated(words, start):
                continue
            if grade == "mild" and any(w in _INTENSIFIERS for w in words[max(0, start - 2):start]):
                grade_here = "moderate"
            else:
                grade_here = grade
            position, before = found.get(name, (start, grade_here))
            best = grade_here if _grade_rank(grade_here) >= _grade_rank(before) else before
            found[name] = (min(position, start), best)
    effects = [SideEffect(name, grade) for name, (_, grade) in sorted(found.items(), key=lambda item: item[1][0])]
    if unread_words(text):
        effects.append(SideEffect("unrecognized", "moderate"))
    return effects


def unread_words(text: str, also: frozenset[str] = frozenset()) -> list[str]:
    """The words of `text` no parser accounts for: neither a side effect, nor filler, nor a number
    (nor a word of `also`). A word that is not a letter or a digit (an emoji) is unread too, and so
    is a reassuring word under a negation ("not ok", "not fine"): "7 but im not ok" is not understood."""
    folded = _fold(text or "")
    words = _words(folded, breakers=True)
    taken = [False] * len(words)
    for phrase, _, _ in _SIDE_EFFECT_PHRASES:
        for start, end in _find(words, phrase, _SIDE_NEVER_FUZZY):
            if not any(taken[start:end]):
                for i in range(start, end):
                    taken[i] = True
    leftover = [w for w, used in zip(words, taken) if not used and w.isalpha() and w not in _FILLER
                and w not in _INTENSIFIERS and w not in also]
    leftover += [w for i, w in enumerate(words) if w in _REASSURING and i and (
        words[i - 1] in _NEGATORS or (i > 1 and words[i - 2] in _NEGATORS and words[i - 1] in _SOFTENERS))]
    leftover += [c for c in _SYMBOLS.findall(folded) if c not in _BENIGN_SYMBOLS]
    return leftover


def _negated(words: list[str], start: int) -> bool:
    """A negator within the five words before `start`, with no "but", "just", "." ... in between."""
    for i in range(start - 1, max(-1, start - 6), -1):
        if words[i] in _SCOPE_BREAKERS:
            return False
        if words[i] in _NEGATORS:
            return True
    return False
