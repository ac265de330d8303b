"""Care: the patient timeline, the work list, follow-ups, coaching, outcomes, the program report, SLA watch.
The rules, no HTTP: chart, coach_desk, coaching, follow_ups, journal, next_steps, outcomes, program_report,
sla_watch, timeline, timeline_pages, today, worklist.
May call: platform, accounts, screening, billing, scheduling, pharmacy, messaging, home_care."""
