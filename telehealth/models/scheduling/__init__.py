"""Scheduling: free slots, booking and cancelling appointments, calendar feeds.
Tables and state verbs: scheduling.
May use: accounts."""
