"""Scheduling: free slots, booking and cancelling appointments, calendar feeds.
The rules, no HTTP: calendars, patient_views, provider_views (a provider's calendar and rota), scheduling, slots,
visit_views (an appointment as its provider holds it).
May call: platform, accounts, billing."""
