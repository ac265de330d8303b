"""Screening: questionnaires, scoring, eligibility, the physician's review, measures, the crisis path.
HTTP only, one service call per request: assessments, measures, reviews.
May call: screening, platform (alerts, the on-call rota)."""
