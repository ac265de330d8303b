"""Tests of the screening domain, in every layer: crisis_corpus, assessments, crisis_language, eligibility, questionnaires, scoring, screening_safety."""
