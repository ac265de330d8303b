"""Care: the patient timeline, the work list, follow-ups, coaching and its journal, outcomes, the program report, SLA watch.
Tables and state verbs: care_notes, journal (the integration journal).
May use: accounts."""
