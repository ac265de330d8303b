"""Scheduling: free slots, booking and cancelling appointments, calendar feeds.
Request and response schemas: scheduling.
May use: nothing."""
