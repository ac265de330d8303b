"""Scheduling: free slots, booking and cancelling appointments, calendar feeds.
The rules, no HTTP: calendars, patient_views, provider_views, scheduling, slots.
May call: platform, accounts, billing."""
