"""Scheduling: free slots, booking and cancelling appointments, calendar feeds.
The rules, no HTTP: calendars, scheduling, slots.
May call: platform, accounts, billing."""
