"""Reading patients' SMS replies to session check-ins (side effects graded by side_effects.py).

Pure functions over the text of one inbound SMS: no database, no Flask, no HTTP, no clock. The SMS
webhook calls them; what a reply leads to (a session gate, a physician alert, a reply text) is
decided there and in the clinical policy, never here. The ranges below are what a plausible answer
looks like, not clinical thresholds: the 140/90 and 180/120 session gates live in the policy.

Public interface (keep these signatures; the webhook and the outbox depend on them):

    parse_pre_session(text: str) -> PreSessionReply | ParseError
        The check-in an hour before an at-home session: one blood-pressure reading and whether
        the sitter is there. "128/82 yes", "bp 128 / 82, sitter here", "128 over 82 Y",
        "It's 128/82 and my sister is with me", "yes 131/79", "128 82 yes" (two bare numbers).
        The reading: systolic 60..260 then diastolic 30..160, systolic above diastolic, whole
        numbers only ("128.5/82" is refused), separated by "/", "\\", "-" or "over"; exactly one
        reading ("128/82 then 130/85" is refused with a hint asking for one). Stray numbers beside
        one separated reading (a pulse: "128/82 pulse 70") are ignored.
        The sitter (parse_sitter): only a clear present-tense yes is True: yes / y / yep / yeah /
        yup / sure / "with me", or here / "is here" / present / arrived with nothing against them
        ("sitter here", "my sister is here", "she's with me"). Absent or NOT YET -> False, and then
        "here" is no yes ("nobody's here yet", "she'll be here in 10 min"): no / n / nope / nah /
        not / none / nobody / "no one" and their contracted forms ("nobody's", "noone", "no one's"),
        alone / "by myself" / "on my own" / "no sitter", n't words (isn't, hasn't, won't...); the
        future (will / 'll / gonna / going to / be: "she'll be here", "should be here"), yet / soon /
        later / almost / "on the way" / "on her way" / coming / arriving / "waiting for", a time
        still to come ("here in 5", "in a few minutes", "here at 5"); left / gone / leaving / went /
        cancelled. Unsure (maybe / probably / hopefully / "I think") -> None. The patient speaking
        of themself ("I'm here", "I'm home", "I just arrived") says nothing about a sitter: alone,
        None. A yes beside an absent word ("yes, but she is not here yet", "nobody with me") is
        contradictory -> None; so is a reply with neither. Only True confirms a sitter; False and
        None mean ask again.

        PreSessionReply.unread: the words left besides the reading, the sitter's words and filler
        ("128/82 sitter here, feeling weird" -> ("weird",)): the reply is not understood in full.

    unread_words(text: str, also=frozenset()) -> list[str]
        The words no parser accounts for: not a number, a known side effect or filler; a reassuring
        word under a negation ("not ok"); any emoji but a few friendly ones (👍 🙂 ❤️). [] means the
        text is confidently understood. A number word ("one", "two") is a score only at the start,
        after a label or after another number: "no one cares" is no mood 1; "want 2 die" reads "to".

    parse_mood(text: str) -> int | ParseError
        One whole number 1..10: "7", "mood 7", "7/10", "7 out of 10", "seven", "I'm a 6".
        0, 11, "7.5" and two numbers ("6 or 7") are refused.

    parse_post_session(text: str) -> PostSessionReply | ParseError
        After the session: the mood first, then side effects in free text, or "none".
        "7 none", "mood 6, a bit dizzy", "8/10 nausea", "seven, headache", "headache, mood 6".
        The mood is the number after the word "mood", else the first number in the reply.

    parse_next_day(text: str) -> NextDayReply | ParseError
        The next day: mood 1..10, sleep 1..10, then side effects in free text, or "none".
        "mood 7 sleep 6 none", "7, 5, a bit nauseous", "Mood: 8. Slept 9. headache",
        "sleep 5 mood 7". A number after "mood" is the mood, after "sleep"/"slept" the sleep;
        unlabelled numbers fill what is left in the order mood, then sleep. Hours of sleep
        ("slept 7 hours") are refused with a hint asking for a 1 to 10 rating. Sleep in words when
        fewer than two numbers are given ("slept ok 7", "mood 7 slept fine") is read as a rating:
        great 9, well / good 7, ok / fine / alright 6, bad / badly / poorly 3, terribly / awful 2.
        Numbers after the two scores stay in the side-effect text ("threw up 3 times").

    grade_side_effects(text: str) -> list[SideEffect]
        Side effects named in free text, each graded "mild", "moderate" or "serious" by the one
        table SIDE_EFFECT_TABLE, in order of first mention, one entry per name (its highest
        grade). "none", "nothing", "no side effects", "all good" and an empty text -> [].
        Misspellings within one edit of a word of 5 letters or more ("nausious", "diziness",
        "vomitting"), doubled letters ("dizzzy"), split or joined words ("head ache",
        "chestpain") are recognized. "very", "severe", "strong", "bad"... just before a mild
        effect make it moderate. Negation ("no nausea", "didn't throw up", "no headache or
        dizziness, just tired") removes mild and moderate effects but NEVER a serious one ("no
        chest pain" still reports chest_pain: a clinician reads it rather than the parser
        guessing). Any words left over that are neither a known effect nor filler add one
        SideEffect("unrecognized", "moderate"), so a clinician reads what the table missed.

    class ParseError            .code (machine readable) and .reply_hint (short, non-clinical,
                                safe to text back as it is). Returned, never raised. Codes:
                                no_reading, several_readings, not_whole_numbers, implausible_reading
                                (pre-session); missing_score, several_numbers, not_whole_number,
                                out_of_range, sleep_hours (mood, post-session, next day).
    class PreSessionReply       .systolic: int, .diastolic: int, .sitter_present: bool | None
    class PostSessionReply      .mood: int, .side_effects: tuple[SideEffect, ...]
    class NextDayReply          .mood: int, .sleep: int, .side_effects: tuple[SideEffect, ...]
    class SideEffect            .name: str (a name of SIDE_EFFECT_TABLE or "unrecognized"),
                                .grade: "mild" | "moderate" | "serious"

    A reply with no side-effect text ("7" after the session) gives side_effects == (): nothing
    reported, treated like "none".

Crisis language (suicidal ideation, self-harm, overdose, a medical emergency, feeling unsafe, a call
for help, veiled intent, fear of acting on an urge) is read by `crisis_language.detect_crisis`, run on
every inbound SMS before these parsers; both read text through `platform/wording.py` (folding, words,
one-edit misspellings). Side effects are graded in `side_effects.py` (re-exported here).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from telehealth.services.home_care.side_effects import (  # noqa: F401  (part of this module's interface)
    GRADES, SIDE_EFFECT_TABLE, SideEffect, grade_side_effects, unread_words,
)
from telehealth.services.platform.wording import collapse_repeats as _collapse
from telehealth.services.platform.wording import find as _find
from telehealth.services.platform.wording import fold as _fold
from telehealth.services.platform.wording import words as _words
from telehealth.services.screening import crisis_language

SYSTOLIC_RANGE = (60, 260)
DIASTOLIC_RANGE = (30, 160)
SCORE_RANGE = (1, 10)

HINT_PRE_SESSION = "Please reply with your reading like 128/82 and YES if your sitter is with you."
HINT_ONE_READING = "Please send just one reading, like 128/82, and YES if your sitter is with you."
HINT_WHOLE_NUMBERS = "Please send whole numbers, like 128/82, and YES if your sitter is with you."
HINT_CHECK_READING = "That reading looks unusual. Please check it and reply like 128/82, top number first."
HINT_MOOD = "Please reply with one whole number from 1 to 10."
HINT_POST_SESSION = "Please reply with how you feel from 1 to 10, then anything unusual, like: 7 none"
HINT_NEXT_DAY = "Please reply with your mood and sleep from 1 to 10, then anything unusual, like: 7 6 none"
HINT_SLEEP_HOURS = "Please rate your sleep from 1 to 10 rather than in hours, like: 7 6 none"


@dataclass(frozen=True)
class ParseError:
    code: str
    reply_hint: str


@dataclass(frozen=True)
class PreSessionReply:
    systolic: int
    diastolic: int
    sitter_present: bool | None
    # words neither the reading, the sitter nor filler: the reply is not understood in full
    unread: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class PostSessionReply:
    mood: int
    side_effects: tuple[SideEffect, ...]


@dataclass(frozen=True)
class NextDayReply:
    mood: int
    sleep: int
    side_effects: tuple[SideEffect, ...]


# --------------------------------------------------------------------------------------------------
# Scores: mood and sleep.

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10}
_NUMBER = r"\d+(?:\.\d+)?"
# Sleep told in words the next day, read as a rating: "slept ok" 6, "slept well" 7, "slept badly" 3.
_SLEEP_WORDS = {"great": 9, "amazing": 9, "well": 7, "good": 7, "ok": 6, "okay": 6, "fine": 6, "alright": 6,
                "bad": 3, "badly": 3, "poorly": 3, "terrible": 2, "terribly": 2, "awful": 2, "horribly": 2}
_SLEEP_IN_WORDS = re.compile(r"\b(?:sleep|slept)\s+(?:was\s+|is\s+|pretty\s+|really\s+)?("
                             + "|".join(_SLEEP_WORDS) + r")\b")
_TO_FOR = re.compile(r"(?<=[a-z])\s+([24])\s+(?=[a-z])(?<!mood\s[24]\s)(?<!sleep\s[24]\s)(?<!slept\s[24]\s)")
_NUMBER_WORD_AFTER = frozenset(("mood", "sleep", "slept", "is", "was", "a", "an", "im", "am", "i", "feel", "feeling",
                                 "or", "and", *_NUMBER_WORDS))


def _number_words_read(folded: str) -> str:
    """Number words as digits where they are a score: at the start, after a label or another number."""
    parts = re.split(r"([a-z]+)", folded)
    before = None
    for i in range(1, len(parts), 2):
        word = parts[i]
        if word in _NUMBER_WORDS and (before is None or before in _NUMBER_WORD_AFTER or before.isdigit()):
            parts[i] = str(_NUMBER_WORDS[word])
        before = word
    return "".join(parts)
_OUT_OF_TEN = re.compile(rf"({_NUMBER})\s*(?:/\s*10|out\s+of\s+10|of\s+10)(?![\d.]*\d)")
_HOURS = re.compile(r"\s*(?:h|hr|hrs|hour|hours)\b")
_LABELS = {"mood": r"mood", "sleep": r"(?:sleep|slept|sleeping)"}
_LABEL_FILLER = r"(?:\s*[:=\-,]?\s*(?:(?:was|is|at|about|around|a|an|of|like|score|rating|quality|well)\s+)*)"


def _scores_text(text: str) -> str:
    """Folded text with number words turned into digits (when no digit is typed) and "/10" dropped."""
    folded = _fold(text or "").replace("'", "")
    # "want 2 die", "talk 2 someone": a 2 or 4 between words is "to" / "for", never a score
    folded = _TO_FOR.sub(lambda m: " to " if m.group(1) == "2" else " for ", folded)
    if not re.search(r"\d", folded):
        # a number word is a number at the start, after a label or after another number ("seven, headache",
        # "mood seven sleep six"), never inside a phrase ("no one cares", "one of those days")
        folded = _number_words_read(folded)
    return _OUT_OF_TEN.sub(r"\1", folded)


def _extract_scores(text: str, names: tuple[str, ...], hint: str) -> tuple[dict[str, int], str] | ParseError:
    """Take the scores `names` (labelled first, then unlabelled in order) out of `text`; return them
    and the rest of the text, in which the side effects are."""
    folded = _scores_text(text)
    if "sleep" in names and len(re.findall(rf"(?<![\d.]){_NUMBER}(?!\d)", folded)) < len(names):
        # "slept ok 7", "mood 7 slept fine": the sleep in words, as a rating (unless both are numbers)
        folded = _SLEEP_IN_WORDS.sub(lambda m: f" sleep {_SLEEP_WORDS[m.group(1)]} ", folded)
    taken: list[tuple[int, int]] = []
    raw: dict[str, re.Match] = {}
    for name in names:
        match = re.search(rf"\b{_LABELS[name]}\b{_LABEL_FILLER}({_NUMBER})(?!\d)", folded)
        if match:
            raw[name] = match
            taken.append(match.span())
    for name in names:
        if name in raw:
            continue
        for match in re.finditer(rf"(?<![\d.])({_NUMBER})(?!\d)", folded):
            if not any(start <= match.start() < end for start, end in taken):
                raw[name] = match
                taken.append(match.span())
                break
    if len(raw) < len(names):
        return ParseError("missing_score", hint)
    scores: dict[str, int] = {}
    for name in names:
        match = raw[name]
        if _HOURS.match(folded, match.end()):
            return ParseError("sleep_hours", HINT_SLEEP_HOURS if "sleep" in names else hint)
        value = match.group(1)
        if "." in value:
            return ParseError("not_whole_number", hint)
        number = int(value)
        if not SCORE_RANGE[0] <= number <= SCORE_RANGE[1]:
            return ParseError("out_of_range", hint)
        scores[name] = number
    rest = folded
    for start, end in sorted(taken, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    return scores, rest


def parse_mood(text: str) -> int | ParseError:
    """One whole number 1..10 ("7", "mood 7", "7/10", "seven", "I'm a 6"). See the module docstring."""
    folded = _scores_text(text)
    numbers = re.findall(rf"(?<![\d.]){_NUMBER}(?!\d)", folded)
    if not numbers:
        return ParseError("missing_score", HINT_MOOD)
    if any("." in n for n in numbers):
        return ParseError("not_whole_number", HINT_MOOD)
    if len(set(int(n) for n in numbers)) > 1:
        return ParseError("several_numbers", HINT_MOOD)
    value = int(numbers[0])
    if not SCORE_RANGE[0] <= value <= SCORE_RANGE[1]:
        return ParseError("out_of_range", HINT_MOOD)
    return value


def parse_post_session(text: str) -> PostSessionReply | ParseError:
    """Mood 1..10, then side effects or "none" ("7 none", "mood 6, a bit dizzy")."""
    result = _extract_scores(text, ("mood",), HINT_POST_SESSION)
    if isinstance(result, ParseError):
        return result
    scores, rest = result
    return PostSessionReply(scores["mood"], tuple(grade_side_effects(rest)))


def parse_next_day(text: str) -> NextDayReply | ParseError:
    """Mood 1..10, sleep 1..10, then side effects or "none" ("mood 7 sleep 6 none", "7, 5, a bit nauseous")."""
    result = _extract_scores(text, ("mood", "sleep"), HINT_NEXT_DAY)
    if isinstance(result, ParseError):
        return result
    scores, rest = result
    return NextDayReply(scores["mood"], scores["sleep"], tuple(grade_side_effects(rest)))


# --------------------------------------------------------------------------------------------------
# The pre-session check-in.

_READING = re.compile(rf"(?<![\d.])({_NUMBER})\s*(?:/|\\|-|over)\s*({_NUMBER})(?!\d)")

# The sitter. Words are folded like everywhere else ("Yesss" -> "yes"), with three differences:
# "'ll" is read as " will" ("she'll" -> "she will"), a few contracted forms are spelled out
# ("nobody's" -> "nobody", "gonna" -> "going to", "omw" -> "on the way"), and "soon" is not collapsed
# to "son" ("my son is here" names a sitter).
_SITTER_SPELLED_OUT = {_collapse(word): spelled for word, spelled in {
    "nobodys": "nobody", "noones": "no one", "noone": "no one", "gonna": "going to", "gunna": "going to",
    "omw": "on the way", "otw": "on the way", "shell": "she will", "theyll": "they will", "youll": "you will",
    "itll": "it will", "enroute": "en route",
}.items()}


def _sitter_words(text: str) -> list[str]:
    folded = re.sub(r"(?<=[a-z])'ll\b", " will", _fold(text or ""))
    words: list[str] = []
    for word in _words(folded, collapse=False):
        if re.fullmatch(r"so{2,}n", word):
            words.append("soon")
        else:
            words.extend(_SITTER_SPELLED_OUT.get(_collapse(word), _collapse(word)).split())
    return words


def _sitter_phrases(*texts: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(_sitter_words(text)) for text in texts)


# The patient speaking of themself: "I'm here" says nothing about a sitter. Taken first, counted as nothing.
_SITTER_SELF = _sitter_phrases(
    "im here", "i am here", "iam here", "i m here", "here i am", "im present", "i am present", "im home",
    "im back", "i arrived", "i just arrived", "ive arrived", "i have arrived")
# Absent, or not here yet: any of these and the reply never confirms a sitter.
_SITTER_ABSENT = _sitter_phrases(
    # no, not, nobody...
    "not here", "not present", "not with me", "not here yet", "not yet", "not arrived", "isnt here",
    "is not here", "isnt with me", "here alone", "home alone", "no one", "by myself", "on my own",
    "no sitter", "not", "no", "n", "nope", "nah", "none", "nobody", "alone", "never", "without",
    "isnt", "arent", "hasnt", "havent", "didnt", "doesnt", "dont", "wont", "cant", "cannot", "couldnt", "wasnt",
    "aint",
    # not yet: the future, on the way, waiting
    "will", "going", "be", "yet", "soon", "later", "shortly", "tomorrow", "almost", "nearly", "about to", "eta",
    "on the way", "on her way", "on his way", "on their way", "on my way", "on its way", "en route",
    "coming", "come", "comes", "arrive", "arrives", "arriving", "heading", "headed", "driving", "late",
    "delayed", "waiting", "wait",
    # gone
    "left", "leaving", "leave", "gone", "went", "away", "stepped out", "cancelled", "canceled")
# Unsure: never a confirmation either ("maybe", "I think she's here").
_SITTER_UNSURE = _sitter_phrases(
    "maybe", "probably", "hopefully", "should", "supposed", "might", "think", "guess", "expect", "expected",
    "expecting")
# A yes to "YES if your sitter is with you".
_SITTER_YES = _sitter_phrases(
    "yes", "y", "yep", "yeah", "yea", "ya", "yup", "yas", "sure", "with me")
# Here: a yes only when nothing above says otherwise ("nobody's here yet" is no).
_SITTER_HERE = _sitter_phrases("is here", "sitter here", "here", "present", "arrived")
# A time still to come: "here in 10", "in a few minutes", "here at 5".
_SITTER_LATER = re.compile(
    r"\b(?:in|within)\s+(?:\d+|an?\s+(?:few|bit|sec|second|min|minute|moment|while|hour|half|couple)\b|few\b|"
    r"half\b|one\b|two\b|three\b|five\b|ten\b|fifteen\b|twenty\b|thirty\b)"
    r"|\bhere\s+(?:at|by|around|after|before)\s+(?:\d|noon\b)")


def parse_sitter(text: str) -> bool | None:
    """Whether the text says the sitter is present (True), absent or not here yet (False), or
    neither, unsure or both (None). Only a clear present-tense yes is True. See the module docstring."""
    words = _sitter_words(text)
    taken = [False] * len(words)
    said: set[str] = set()
    for kind, phrases in (("self", _SITTER_SELF), ("absent", _SITTER_ABSENT), ("unsure", _SITTER_UNSURE),
                          ("yes", _SITTER_YES), ("here", _SITTER_HERE)):
        for phrase in sorted(phrases, key=len, reverse=True):
            for start, end in _find(words, phrase, frozenset(), fuzzy=False):
                if any(taken[start:end]):
                    continue
                for i in range(start, end):
                    taken[i] = True
                said.add(kind)
    if _SITTER_LATER.search(_fold(text or "")):
        said.add("absent")
    if "absent" in said:
        return None if "yes" in said else False  # "yes, but she is not here yet": ask again
    if "unsure" in said:
        return None
    if "yes" in said or "here" in said:
        return True
    return None


# The words a pre-session reply may hold besides its reading: the sitter's phrasings, who the sitter is,
# what the reading is. Anything else is not understood in full ("128/82 sitter here, feeling off").
PRE_SESSION_WORDS = frozenset(
    {w for kind in (_SITTER_SELF, _SITTER_ABSENT, _SITTER_UNSURE, _SITTER_YES, _SITTER_HERE) for p in kind for w in p}
    | set(_words("bp blood pressure reading readings pulse hr heart rate over sitter sister brother mom mum mother "
                 "dad father husband wife partner boyfriend girlfriend bf gf friend son daughter roommate neighbor "
                 "neighbour aunt uncle cousin grandma grandpa spouse fiance fiancee wifey hubby family caregiver "
                 "carer nurse person with here home present arrived ready sat sitting beside next room house "
                 "hi hey hello yes yeah yep sure ok okay thanks she'll he'll they'll i'll we'll shes hes theyre "
                 "whos its im ive running any minute min mins minutes sec come over")) | set(_SITTER_SPELLED_OUT))


def parse_pre_session(text: str) -> PreSessionReply | ParseError:
    """One blood-pressure reading and the sitter's presence ("128/82 yes"). See the module docstring."""
    folded = _fold(text or "")
    readings = list(_READING.finditer(folded))
    if len(readings) > 1:
        return ParseError("several_readings", HINT_ONE_READING)
    if readings:
        first, second = readings[0].group(1), readings[0].group(2)
        rest = folded[:readings[0].start()] + " " + folded[readings[0].end():]
    else:
        numbers = list(re.finditer(rf"(?<![\d.]){_NUMBER}(?!\d)", folded))
        if len(numbers) != 2:
            return ParseError("no_reading", HINT_PRE_SESSION)
        first, second = numbers[0].group(), numbers[1].group()
        rest = folded[:numbers[0].start()] + " " + folded[numbers[0].end():numbers[1].start()] + " " + \
            folded[numbers[1].end():]
    if "." in first or "." in second:
        return ParseError("not_whole_numbers", HINT_WHOLE_NUMBERS)
    systolic, diastolic = int(first), int(second)
    if not (SYSTOLIC_RANGE[0] <= systolic <= SYSTOLIC_RANGE[1] and DIASTOLIC_RANGE[0] <= diastolic <= DIASTOLIC_RANGE[1]
            and systolic > diastolic):
        return ParseError("implausible_reading", HINT_CHECK_READING)
    return PreSessionReply(systolic, diastolic, parse_sitter(rest), tuple(unread_words(rest, PRE_SESSION_WORDS)))


def detect_crisis(text: str) -> bool:
    """Kept for callers of this module: `crisis_language.detect_crisis`."""
    return crisis_language.detect_crisis(text)
