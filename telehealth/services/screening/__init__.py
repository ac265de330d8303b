"""Screening: questionnaires, scoring, eligibility, the physician's review, measures, the crisis path.
The rules, no HTTP: assessments, crisis, crisis_language, eligibility, measures, reviews, scoring.
May call: platform."""
