"""Care: the patient timeline, the work list, follow-ups, coaching, outcomes, the program report, SLA watch.
HTTP only, one service call per request: care, coaching, follow_ups, journal, outcomes;
pages: coaching_pages, home_pages, today_pages (the physician's day), coach_pages (the coach's day, patients and
note editor), chart_pages (the physician's patients, the chart and the follow-up).
May call: care, pharmacy (prescriptions at a follow-up), home_care (pauses and side effects at a follow-up), screening (the score chart and its bands)."""
