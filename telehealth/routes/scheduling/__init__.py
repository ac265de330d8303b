"""Scheduling: free slots, booking and cancelling appointments, calendar feeds.
HTTP only, one service call per request: scheduling.
May call: scheduling."""
