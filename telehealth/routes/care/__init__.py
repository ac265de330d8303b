"""Care: the patient timeline, the work list, follow-ups, coaching, outcomes, the program report, SLA watch.
HTTP only, one service call per request: care, coaching, follow_ups, journal, outcomes;
pages: coaching_pages, home_pages, today_pages.
May call: care, pharmacy (prescriptions at a follow-up)."""
