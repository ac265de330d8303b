"""Pharmacy: prescriptions, shipments to the partner pharmacy and its events, the shipping SLA.
The rules, no HTTP: pharmacy_events, prescriptions, shipments, shipping_sla.
May call: platform, accounts, billing."""
