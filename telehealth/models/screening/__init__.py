"""Screening: questionnaires, scoring, eligibility, the physician's review, measures, the crisis path.
Tables and state verbs: assessments.
May use: accounts."""
