"""Tests of the care domain, in every layer: coaching, follow_ups, outcomes, program_report, sla_watch, timeline, worklist."""
