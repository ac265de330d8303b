"""Reading free text as patients type it: folding, words, one-edit misspellings, phrases found
word by word or run together. Pure functions, no database; shared by the SMS reply parsers
(home_care) and the crisis-language detector (screening), so both read a text the same way."""
from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
BREAKER_CHARS = ".!?;"


def fold(text: str) -> str:
    """NFKC (full-width digits become ASCII), accents removed, lowercase, one kind of apostrophe."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return text.lower().translate(_APOSTROPHES)


def collapse_repeats(word: str) -> str:
    return re.sub(r"([a-z])\1+", r"\1", word)


def words(folded: str, *, breakers: bool = False, collapse: bool = True) -> list[str]:
    """Words of folded text: apostrophes dropped ("can't" -> "cant"), repeated letters collapsed
    ("dizzzy" -> "dizy", "kill" -> "kil"), digits kept as they are; with `breakers`, the sentence
    marks . ! ? ; are kept as words of their own (negation stops at them)."""
    folded = folded.replace("'", "")
    pattern = r"[a-z]+|\d+|[.!?;]" if breakers else r"[a-z]+|\d+"
    words = re.findall(pattern, folded)
    return [collapse_repeats(word) for word in words] if collapse else words


def phrase(text: str) -> tuple[str, ...]:
    return tuple(words(fold(text)))


def distance_at_most_one(a: str, b: str) -> bool:
    """True when a and b are at most one edit apart (insert, delete, substitute, swap neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    short, long_ = (a, b) if la < lb else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            return True
    return False


def close(word: str, target: str, never_fuzzy: frozenset[str]) -> bool:
    """`word` of the text stands for `target` of a phrase: equal, a plural, or one edit away when the
    target has 5 letters or more and the word is not an ordinary word listed in `never_fuzzy`."""
    if word == target or word == target + "s":
        return True
    if len(target) < 5 or not target.isalpha() or word in never_fuzzy:
        return False
    return distance_at_most_one(word, target)


def find(words: list[str], phrase: tuple[str, ...], never_fuzzy: frozenset[str],
          fuzzy: bool = True) -> list[tuple[int, int]]:
    """Spans (start, end) of `words` where `phrase` occurs: word by word, or run together or split
    ("chestpain" for "chest pain", "head ache" for "headache")."""
    spans = []
    k = len(phrase)
    joined = "".join(phrase)
    for i in range(len(words)):
        if i + k <= len(words) and all(
                (close(words[i + j], phrase[j], never_fuzzy) if fuzzy else words[i + j] == phrase[j])
                for j in range(k)):
            spans.append((i, i + k))
            continue
        for width in range(1, k + 2):
            if width == k or i + width > len(words):
                continue
            window = words[i:i + width]
            if not all(w.isalnum() for w in window):
                continue
            run = "".join(window)
            if run == joined or (fuzzy and width == 1 and len(joined) >= 8 and run not in never_fuzzy
                                 and distance_at_most_one(run, joined)):
                spans.append((i, i + width))
                break
    return spans
