"""Screening: questionnaires, scoring, eligibility, the physician's review, measures, the crisis path.
Request and response schemas: assessments.
May use: screening."""
