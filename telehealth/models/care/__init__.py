"""Care: the patient timeline, the work list, follow-ups, coaching, outcomes, the program report, SLA watch.
Tables and state verbs: care_notes.
May use: accounts."""
