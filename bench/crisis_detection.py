"""`bench/run.py --only crisis`: recall and precision of crisis detection on the labelled corpus.

No servers, no database: `crisis_language.detect_crisis` over every text of tests/screening/crisis_corpus.py,
recall per intent and overall, precision overall, and the texts it got wrong. Recall must be 100%
(a missed crisis is the failure that matters: exit 1); precision is reported, and every false
positive is a page to the on-call physician.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from telehealth.services.screening.crisis_language import detect_crisis  # noqa: E402
from tests.screening.crisis_corpus import CORPUS, CRISIS  # noqa: E402


def measure() -> dict:
    started = time.perf_counter()
    fired = {text: detect_crisis(text) for text, _ in CORPUS}
    seconds = time.perf_counter() - started
    positives = [text for text, intent in CORPUS if intent]
    negatives = [text for text, intent in CORPUS if not intent]
    true_pos = sum(fired[t] for t in positives)
    false_pos = [t for t in negatives if fired[t]]
    return {
        "texts": len(CORPUS), "crisis": len(positives), "ordinary": len(negatives),
        "recall": true_pos / len(positives),
        "precision": true_pos / (true_pos + len(false_pos)) if true_pos + len(false_pos) else 1.0,
        "recall_by_intent": {intent: sum(fired[t] for t in texts) / len(texts) for intent, texts in CRISIS.items()},
        "missed": [t for t in positives if not fired[t]], "false_positives": false_pos,
        "microseconds_per_text": round(seconds / len(CORPUS) * 1e6, 1),
    }


def report(result: dict) -> bool:
    """Print the figures; whether recall is total."""
    print(f"crisis detection on {result['texts']} texts ({result['crisis']} crisis, {result['ordinary']} ordinary): "
          f"recall {result['recall']:.1%} (must be 100%), precision {result['precision']:.1%}, "
          f"{result['microseconds_per_text']} us per text")
    for intent, recall in result["recall_by_intent"].items():
        print(f"  {intent:<20} recall {recall:.1%}")
    for text in result["missed"]:
        print(f"FAIL: missed crisis text: {text!r}")
    for text in result["false_positives"]:
        print(f"  false positive (pages someone): {text!r}")
    return not result["missed"]


if __name__ == "__main__":
    sys.exit(0 if report(measure()) else 1)
