"""Care: the patient timeline, the work list, follow-ups, coaching, outcomes, the program report, SLA watch.
Request and response schemas: care, coaching, follow_ups, journal, outcomes.
May use: care, pharmacy, screening (the crisis resources)."""
